"""The ledger of issued documents, for the local case: ``OUT/ledger.sqlite`` (docs/charter.md).

Every document key is claimed (``pending``) before the document is written or sent, then
marked ``sent``. Claiming is an ``INSERT OR IGNORE`` inside an immediate transaction, so two runs
racing on the same file cannot both claim a key: only the run that inserted it may deliver it.
A document held back by the go-live date is recorded ``historical`` and never issued.

"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

from charter.model import Ledger, LedgerEntry, LedgerStatus
from charter.scope import Scope
from integrations.journal import Journal


@dataclass(frozen=True)
class LedgerRow(LedgerEntry):
    """A ledger row as stored: the charter's entry (key, kind, status, day, amount, member and
    mission ids) plus what a person needs to follow it up."""

    member: str | None = None
    mission: str | None = None
    registered: bool = False
    document: str | None = None  # where the PDF is, relative to the out folder
    registered_number: str | None = None  # the registered letter's number, once posted
    posted_on: date | None = None
    #: What the run summary says of the document (its kind's fields), kept for a retry.
    details: dict[str, Any] | None = None

    @property
    def to_send(self) -> bool:
        """Claimed ``pending``: the run that claimed it sends it (``historical`` is never sent)."""
        return self.status is LedgerStatus.PENDING

    def entry(self) -> LedgerEntry:
        """The charter's part of the row, alone: what the rules compare with."""
        return LedgerEntry(*(getattr(self, f.name) for f in fields(LedgerEntry)))


class LedgerStore(Protocol):
    """Where the ledger lives: a SQLite file here, the Versements/Courriers tables elsewhere.

    ``journal`` (``integrations.journal``) keeps on disk, as they happen, the keys a run claims
    and each letter's outcome, for when the run dies before its marks reach the ledger;
    ``serialised`` says whether runs on this ledger never overlap (a Prefect concurrency limit),
    which lets the journal's ``claiming`` entries be trusted (``services.journal``).
    """

    journal: Journal
    serialised: bool

    def load(self) -> Ledger: ...

    def claim(self, rows: list[LedgerRow]) -> list[str]:
        """Insert the rows whose key is not in the ledger yet; return the keys inserted."""
        ...

    def reclaim(self, keys: list[str]) -> list[str]:
        """Take ``failed`` keys back to ``pending`` for a retry; return the keys taken."""
        ...

    def mark(self, key: str, status: LedgerStatus, document: str | None = None) -> None:
        """Record a document's outcome; a store may buffer it until ``flush``."""
        ...

    def flush(self) -> None:
        """Write what ``mark`` buffered."""
        ...

    def rows(self, status: LedgerStatus | None = None) -> list[LedgerRow]: ...


class CachedLedger:
    """A ledger kept in the cooperative's own base (Airtable, Notion), read once per run.

    Subclasses fetch their records in ``_fetch``; the run then works on that copy, and
    ``_ids`` keeps the id of each key's record in the base, for the writes.
    """

    serialised = True  # runs on one base or workspace wait for each other (flows/locks.py)

    def __init__(self, scope: Scope | None = None) -> None:
        self.scope = scope
        self.journal = Journal(None)
        self._rows: dict[str, LedgerRow] | None = None
        self._ids: dict[str, str] = {}

    def _fetch(self) -> Iterator[tuple[str, LedgerRow | None]]:
        """Each record of the ledger tables the run reads: its id in the base, and the row it
        holds (``None`` for a record that is not a ledger row)."""
        raise NotImplementedError

    def _read(self) -> dict[str, LedgerRow]:
        if self._rows is None:
            self._rows = {}
            for record_id, row in self._fetch():
                if row is not None:
                    self._rows[row.key] = row
                    self._ids[row.key] = record_id
        return self._rows

    def _row(self, key: str) -> LedgerRow:
        """The row of ``key``, which must be in the ledger."""
        rows = self._read()
        if key not in rows:
            raise KeyError(f"Clé absente du registre : {key}")
        return rows[key]

    def _failed(self, keys: list[str]) -> list[str]:
        """Those of ``keys`` whose document failed, which a retry may take back."""
        rows = self._read()
        return [k for k in keys if k in rows and rows[k].status is LedgerStatus.FAILED]

    def load(self) -> Ledger:
        return {key: row.entry() for key, row in self._read().items()}

    def rows(self, status: LedgerStatus | None = None) -> list[LedgerRow]:
        rows = sorted(self._read().values(), key=lambda r: r.key)
        return [r for r in rows if status is None or r.status is status]


_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    key         TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed', 'historical')),
    issued_on   TEXT NOT NULL,
    member_id   TEXT,
    member      TEXT,
    mission_id  TEXT,
    mission     TEXT,
    amount      TEXT,
    registered  INTEGER NOT NULL DEFAULT 0,
    registered_number TEXT,
    posted_on   TEXT,
    document    TEXT,
    details     TEXT,
    claimed_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS settings (name TEXT PRIMARY KEY, value TEXT);
"""

_COLUMNS = (
    "key, kind, status, issued_on, member_id, member, mission_id, mission, amount, "
    "registered, document, registered_number, posted_on, details"
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


#: The outcomes a run's ledger keeps before writing them in one transaction (``SqliteLedger``).
MARK_BATCH = 50


class SqliteLedger:
    """The local ledger, one SQLite file."""

    serialised = False  # runs may overlap: the claim's transaction keeps them apart
    #: Rows a claim commits at once when a run claims in batches (``services.ledger.claim``).
    claim_batch = 200

    def __init__(self, path: Path, *, read_only: bool = False, mark_batch: int = 1) -> None:
        """Open (and create, with its tables) the ledger at ``path``; ``read_only`` opens an
        existing file that is then never written, not even created (a preview run).

        ``mark_batch``: outcomes (``mark``) kept until that many are written in one
        transaction, or until ``flush`` or any other use of this object. A run delivering
        letters keeps 50 (``MARK_BATCH``): each outcome is already on disk in its journal
        (``integrations.journal``), which settles them should the run die first, and one
        transaction a letter was a third of the delivery's time. 1: written at once."""
        self.path = path
        self.read_only = read_only
        self.journal = Journal(None)
        self.mark_batch = mark_batch
        self._marks: list[tuple[str, str | None, str, str]] = []
        self._marks_lock = threading.Lock()
        if read_only:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        # The default rollback journal, not WAL: switching a new file to WAL ignores the busy
        # timeout, so a run opening the ledger while another run creates it would fail at once.
        if self.read_only:
            target, uri = f"{self.path.resolve().as_uri()}?mode=ro", True
        else:
            target, uri = str(self.path), False
        db = sqlite3.connect(target, timeout=30, isolation_level=None, uri=uri)
        try:
            yield db
        finally:
            db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def load(self) -> Ledger:
        return {row.key: row.entry() for row in self.rows()}

    def rows(
        self,
        status: LedgerStatus | None = None,
        *,
        kind: str | None = None,
        member: str | None = None,
    ) -> list[LedgerRow]:
        """The ledger's rows in key order, filtered by status, kind and member name."""
        conditions, params = [], []
        for column, value in (
            ("status", status and status.value),
            ("kind", kind),
            ("member", member),
        ):
            if value is not None:
                conditions.append(f"{column} = ?")
                params.append(value)
        where = f" WHERE {' AND '.join(conditions)}" if conditions else ""
        query = f"SELECT {_COLUMNS} FROM documents{where} ORDER BY key"
        self.flush()
        with self._connect() as db:
            return [_row(values) for values in db.execute(query, params)]

    def row(self, key: str) -> LedgerRow | None:
        self.flush()
        with self._connect() as db:
            found = db.execute(f"SELECT {_COLUMNS} FROM documents WHERE key = ?", (key,)).fetchone()
        return None if found is None else _row(found)

    def claim(self, rows: list[LedgerRow]) -> list[str]:
        claimed = []
        now = _now()
        self.flush()
        with self._transaction() as db:
            for row in rows:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO documents "
                    f"({_COLUMNS}, claimed_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        row.key,
                        row.kind,
                        row.status.value,
                        row.issued_on.isoformat(),
                        row.member_id,
                        row.member,
                        row.mission_id,
                        row.mission,
                        None if row.amount is None else str(row.amount),
                        int(row.registered),
                        row.document,
                        row.registered_number,
                        row.posted_on.isoformat() if row.posted_on else None,
                        None
                        if row.details is None
                        else json.dumps(row.details, ensure_ascii=False),
                        now,
                        now,
                    ),
                )
                if cursor.rowcount == 1:
                    claimed.append(row.key)
        taken = set(claimed)
        self.journal.claimed(row.key for row in rows if row.key in taken and row.to_send)
        return claimed

    def reclaim(self, keys: list[str]) -> list[str]:
        taken = []
        self.flush()
        with self._transaction() as db:
            for key in keys:
                cursor = db.execute(
                    "UPDATE documents SET status = 'pending', updated_at = ? "
                    "WHERE key = ? AND status = 'failed'",
                    (_now(), key),
                )
                if cursor.rowcount == 1:
                    taken.append(key)
        self.journal.claimed(taken)
        return taken

    def register(self, key: str, number: str, posted_on: date) -> None:
        """Record the number and posting date of a letter sent by registered post."""
        self.flush()
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE documents SET registered_number = ?, posted_on = ?, updated_at = ? "
                "WHERE key = ?",
                (number, posted_on.isoformat(), _now(), key),
            )
            if cursor.rowcount != 1:
                raise KeyError(f"Clé absente du registre : {key}")

    def mark(self, key: str, status: LedgerStatus, document: str | None = None) -> None:
        with self._marks_lock:
            self._marks.append((status.value, document, _now(), key))
            full = len(self._marks) >= self.mark_batch
        if full:
            self.flush()

    def flush(self) -> None:
        """Write the outcomes ``mark`` kept, in one transaction."""
        with self._marks_lock:
            marks, self._marks = self._marks, []
            if not marks:
                return
            missing = []
            with self._transaction() as db:
                for values in marks:
                    cursor = db.execute(
                        "UPDATE documents SET status = ?, document = COALESCE(?, document), "
                        "updated_at = ? WHERE key = ?",
                        values,
                    )
                    if cursor.rowcount != 1:
                        missing.append(values[-1])
        if missing:
            raise KeyError(f"Clé absente du registre : {', '.join(missing)}")

    def go_live(self) -> date | None:
        with self._connect() as db:
            found = db.execute("SELECT value FROM settings WHERE name = 'go_live'").fetchone()
        return date.fromisoformat(found[0]) if found and found[0] else None

    def record_go_live(self, go_live: date | None) -> None:
        """Keep the go-live date the ledger was run with, for whoever audits it later."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO settings (name, value) VALUES ('go_live', ?) "
                "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                (go_live.isoformat() if go_live else None,),
            )


def _row(values: tuple[Any, ...]) -> LedgerRow:
    (key, kind, status, issued_on, member_id, member, mission_id, mission, amount, reg, doc) = (
        values[:11]
    )
    number, posted_on, details = values[11:]
    return LedgerRow(
        key=str(key),
        kind=str(kind),
        status=LedgerStatus(status),
        issued_on=date.fromisoformat(str(issued_on)),
        member_id=None if member_id is None else str(member_id),
        member=None if member is None else str(member),
        mission_id=None if mission_id is None else str(mission_id),
        mission=None if mission is None else str(mission),
        amount=None if amount is None else Decimal(str(amount)),
        registered=bool(reg),
        document=None if doc is None else str(doc),
        registered_number=number,
        posted_on=None if posted_on is None else date.fromisoformat(posted_on),
        details=None if details is None else json.loads(details),
    )
