"""The out folder: where documents land as HTML, PDF and the email that carries them.

With no SMTP settings, writing a document here is its delivery (docs/data-model.md, ``cae run``).
Files are named after the ledger key, so a document is always at the same place.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path


def file_stem(key: str) -> str:
    """A portable file name for a ledger key: ASCII, no separators, and a short hash.

    >>> file_stem("renewal:Zoé Durand:2026-12-01")
    'renewal-zoe-durand-2026-12-01-71b469b9'
    """
    ascii_key = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_key.lower()).strip("-")[:80]
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"{slug}-{digest}"


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def paths(self, kind: str, key: str) -> dict[str, Path]:
        base = self.folder / "documents" / kind / file_stem(key)
        return {suffix: base.with_suffix(f".{suffix}") for suffix in ("pdf", "html", "eml")}

    def has(self, kind: str, key: str) -> bool:
        """Whether the document's email was written: a retry then sends those very bytes."""
        return self.paths(kind, key)["eml"].is_file()

    def read_message(self, kind: str, key: str) -> EmailMessage:
        data = self.paths(kind, key)["eml"].read_bytes()
        message = BytesParser(policy=default).parsebytes(data)
        assert isinstance(message, EmailMessage)
        return message

    def files(self, kind: str, key: str) -> list[str]:
        return [str(p.relative_to(self.folder)) for p in self.paths(kind, key).values()]

    def write(self, kind: str, key: str, html: str, pdf: bytes, message: EmailMessage) -> list[str]:
        """Write the document's files; return their paths relative to the out folder."""
        paths = self.paths(kind, key)
        paths["pdf"].parent.mkdir(parents=True, exist_ok=True)
        # The email last, each file whole or not at all: its presence means the document is
        # complete and a retry may send it as it is.
        _write_atomically(paths["pdf"], pdf)
        _write_atomically(paths["html"], html.encode("utf-8"))
        _write_atomically(paths["eml"], message.as_bytes())
        return self.files(kind, key)


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    os.replace(partial, path)
