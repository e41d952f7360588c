"""Where the receiver keeps what must survive a restart: the Notion subscription's verification
token and the Airtable payload cursors, in files readable by their owner only (0600).
"""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path
from typing import Any, Protocol


class TokenStore(Protocol):
    """Where the Notion subscription's verification token is kept."""

    def get(self) -> str | None: ...

    def set(self, token: str) -> None: ...


class CursorStore(Protocol):
    """Where the number of the next Airtable payload to read is kept, per webhook."""

    def get(self, webhook_id: str) -> int | None: ...

    def set(self, webhook_id: str, cursor: int) -> None: ...


def write_private_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text``, readable by its owner only (0600), atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(handle, 0o600)
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class FileTokenStore:
    """The token in a file readable by its owner only (0600)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def get(self) -> str | None:
        try:
            token = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return token or None

    def set(self, token: str) -> None:
        write_private_file(self.path, token + "\n")


class FileCursorStore:
    """The cursors in a JSON file ``{webhook_id: cursor}`` readable by its owner only."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()

    def _read(self) -> dict[str, int]:
        try:
            data: Any = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, webhook_id: str) -> int | None:
        with self._lock:
            return self._read().get(webhook_id)

    def set(self, webhook_id: str, cursor: int) -> None:
        with self._lock:
            cursors = self._read()
            cursors[webhook_id] = cursor
            text = json.dumps(cursors, indent=2, sort_keys=True) + "\n"
            write_private_file(self.path, text)
