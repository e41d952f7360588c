"""The out folder: where documents land as HTML, PDF and the email that carries them.

With no SMTP settings, writing a document here is its delivery (DATA-MODEL.md, ``cae run``).
Files are named after the ledger key, so a document is always at the same place.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from email.message import EmailMessage
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

    def write(self, kind: str, key: str, html: str, pdf: bytes, message: EmailMessage) -> list[str]:
        """Write the document's files; return their paths relative to the out folder."""
        paths = self.paths(kind, key)
        paths["pdf"].parent.mkdir(parents=True, exist_ok=True)
        paths["pdf"].write_bytes(pdf)
        paths["html"].write_text(html, encoding="utf-8")
        paths["eml"].write_bytes(message.as_bytes())
        return [str(p.relative_to(self.folder)) for p in paths.values()]
