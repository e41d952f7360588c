"""A preview run (``cae run --preview``): everything a real run would issue today, sent nowhere.

The preview reads the records and the ledger as a real run does, evaluates the charter and
renders every document it would issue, with the email that would carry it, into
``OUT/apercu/`` (its own ``run-summary.json`` included). It changes nothing: the ledger is read
and never written (``PreviewLedger`` keeps its claims in memory; a local ``ledger.sqlite`` is
opened read-only, and not at all when absent), no mail server is contacted (``PreviewMailer``),
no status is written back to the source, and no run is kept waiting for the source's lock.
A real run just after issues the same documents: same keys, same amounts.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import replace
from email.message import EmailMessage
from pathlib import Path

from charter.model import Ledger, LedgerStatus
from integrations.journal import Journal
from integrations.ledger import LedgerRow, LedgerStore, SqliteLedger

#: The preview's folder, inside the out folder.
PREVIEW_FOLDER = "apercu"


class PreviewLedger:
    """A ``LedgerStore`` that reads the real ledger once and never writes to it: claims and
    outcomes stay in memory, so the preview issues exactly the keys a real run would claim."""

    journal = Journal(None)  # nothing to keep: nothing is sent
    serialised = False

    def __init__(self, read: Callable[[], list[LedgerRow]]) -> None:
        self._read_rows = read  # called once, when the run first reads the ledger
        self._known: dict[str, LedgerRow] | None = None

    @property
    def _rows(self) -> dict[str, LedgerRow]:
        if self._known is None:
            self._known = {row.key: row for row in self._read_rows()}
        return self._known

    def load(self) -> Ledger:
        return {key: row.entry() for key, row in self._rows.items()}

    def rows(self, status: LedgerStatus | None = None) -> list[LedgerRow]:
        rows = sorted(self._rows.values(), key=lambda r: r.key)
        return [r for r in rows if status is None or r.status is status]

    def claim(self, rows: list[LedgerRow]) -> list[str]:
        fresh = [row for row in rows if row.key not in self._rows]
        self._rows.update({row.key: row for row in fresh})
        return [row.key for row in fresh]

    def reclaim(self, keys: list[str]) -> list[str]:
        known = self._rows
        taken = [k for k in keys if k in known and known[k].status is LedgerStatus.FAILED]
        for key in taken:
            known[key] = replace(known[key], status=LedgerStatus.PENDING)
        return taken

    def mark(self, key: str, status: LedgerStatus, document: str | None = None) -> None:
        self._rows[key] = replace(self._rows[key], status=status)

    def flush(self) -> None:
        """Nothing is ever written."""


def preview_ledger(store: LedgerStore | Path) -> PreviewLedger:
    """The preview's view of a ledger kept in the source, or of the local file at a path."""
    if isinstance(store, Path):
        path = store
        return PreviewLedger(lambda: local_rows(path))
    return PreviewLedger(store.rows)


def local_rows(path: Path) -> list[LedgerRow]:
    """The rows of a local ``ledger.sqlite``, read without touching the file: none when it
    does not exist (opening it for writing would create it), else through a read-only
    connection."""
    return SqliteLedger(path, read_only=True).rows() if path.is_file() else []


class PreviewMailer:
    """Sends nothing; says what the real run's mailer would (``email`` or ``outbox``), so that
    a missing address is reported as the real run would report it."""

    def __init__(self, name: str) -> None:
        self.name = name

    def send(self, message: EmailMessage) -> None:
        return None


def fresh_folder(path: Path) -> Path:
    """``OUT/apercu`` emptied of an earlier preview, so it holds only today's documents."""
    if path.name != PREVIEW_FOLDER:
        raise ValueError(f"{path} n'est pas un dossier d'aperçu")
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


#: What the preview's report says first, plainly.
NOTHING_SENT = (
    "**Aperçu : rien n'a été envoyé.** Aucun courriel n'est parti, aucune clé n'a été réservée "
    "dans le registre et aucun statut n'a été écrit dans la source. Les documents ci-dessous "
    "sont ceux qu'une exécution réelle émettrait aujourd'hui ; ils sont dans le dossier "
    f"`{PREVIEW_FOLDER}/` (PDF, HTML et le courriel .eml qui les porterait)."
)
