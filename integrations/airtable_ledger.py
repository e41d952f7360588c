"""The ledger in the cooperative's own Airtable base: Versements and Courriers (DATA-MODEL.md).

One row per issued document, keyed by ``Clé``: payout notices in **Versements**, every other
document in **Courriers**. Claiming is an upsert on ``Clé`` (a repeated write is harmless), and a
key counts as claimed by this run only when Airtable reports the row as created, or when the
upsert had to be sent again after a failure that may have followed its being applied (timeout,
lost connection, 5xx): the row the retry finds was then created by this run's first attempt,
since the key was absent when the run read the ledger and no other run writes to the base
meanwhile. Otherwise a lost answer would leave up to 10 letters unsent, waiting for a person.
Status changes are buffered and written 10 rows a request, so a run's writes cost ⌈rows/10⌉
requests a table.
Airtable has no conditional write: runs on one base must not overlap (a Prefect concurrency limit
serialises them).
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal
from typing import Any

from charter.model import LedgerStatus
from charter.scope import Scope, ScopeKind
from integrations.airtable import AirtableClient, read_table
from integrations.ledger import CachedLedger, LedgerRow

PAYOUTS = "Versements"
LETTERS = "Courriers"
PAYOUT_KINDS = frozenset({"payout_mid", "payout_delivery"})
BATCH = 10

# Field labels, as DATA-MODEL.md names them.
KEY, KIND, MEMBER, MISSION, AMOUNT, STATUS = "Clé", "Type", "Membre", "Mission", "Montant", "Statut"
ISSUED_ON, REGISTERED, NUMBER, POSTED_ON = "Émis le", "Recommandé", "N° de recommandé", "Posté le"
DOCUMENT, DETAILS = "Document", "Détails"
RATE, MARGIN, TOTAL, PAID_BEFORE, DATE = "Taux", "Marge brute", "Total", "Déjà versé", "Date"

READ_FIELDS = [KEY, KIND, MEMBER, MISSION, AMOUNT, STATUS, ISSUED_ON, REGISTERED, NUMBER]
READ_FIELDS += [POSTED_ON, DOCUMENT, DETAILS]

#: The document's main date, written in Courriers.Date.
LETTER_DATE = {
    "resignation_ack": "effective_on",
    "resignation_invalid": "received_on",
    "non_renewal": "renewal_on",
    "renewal": "renewal_on",
    "associate_reminder": "deadline",
}


def table_for(kind: str) -> str:
    return PAYOUTS if kind in PAYOUT_KINDS else LETTERS


def _number(value: Any) -> float | None:
    return None if value in (None, "") else float(Decimal(str(value)))


def claim_fields(row: LedgerRow) -> dict[str, Any]:
    """The Airtable cells of a newly claimed ledger row."""
    details = row.details or {}
    fields: dict[str, Any] = {
        KEY: row.key,
        KIND: row.kind,
        STATUS: row.status.value,
        ISSUED_ON: row.issued_on.isoformat(),
        MEMBER: [row.member_id] if row.member_id else [],
        MISSION: [row.mission_id] if row.mission_id else [],
        AMOUNT: _number(row.amount),
        DETAILS: json.dumps(details, ensure_ascii=False),
    }
    if row.kind in PAYOUT_KINDS:
        fields[RATE] = _number(details.get("rate"))
        fields[MARGIN] = _number(details.get("gross_margin"))
        fields[TOTAL] = _number(details.get("total"))
        fields[PAID_BEFORE] = _number(details.get("paid_before"))
    else:
        fields[REGISTERED] = row.registered
        if row.kind in LETTER_DATE:
            fields[DATE] = details.get(LETTER_DATE[row.kind])
    return {name: value for name, value in fields.items() if value is not None}


def _row(record: dict[str, Any]) -> LedgerRow | None:
    cells = record.get("fields", {})
    key = cells.get(KEY)
    if not key or cells.get(STATUS) not in {s.value for s in LedgerStatus}:
        return None
    details = json.loads(cells[DETAILS]) if cells.get(DETAILS) else None
    posted_on = cells.get(POSTED_ON)
    return LedgerRow(
        key=key,
        kind=cells.get(KIND) or key.split(":", 1)[0],
        status=LedgerStatus(cells[STATUS]),
        issued_on=date.fromisoformat(cells[ISSUED_ON]) if cells.get(ISSUED_ON) else date.min,
        member_id=(cells.get(MEMBER) or [None])[0],
        member=(details or {}).get("member"),
        mission_id=(cells.get(MISSION) or [None])[0],
        mission=(details or {}).get("mission"),
        amount=None if cells.get(AMOUNT) is None else Decimal(str(cells[AMOUNT])),
        registered=bool(cells.get(REGISTERED)),
        document=cells.get(DOCUMENT),
        registered_number=cells.get(NUMBER),
        posted_on=date.fromisoformat(posted_on) if posted_on else None,
        details=details,
    )


class AirtableLedger(CachedLedger):
    """The ``LedgerStore`` of a run whose source is Airtable."""

    def __init__(self, client: AirtableClient, scope: Scope | None = None) -> None:
        self.client = client
        self.scope = scope
        self._rows: dict[str, LedgerRow] | None = None
        self._ids: dict[str, str] = {}
        self._pending_marks: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)

    def _read(self) -> dict[str, LedgerRow]:
        if self._rows is None:
            self._rows = {}
            for table in (PAYOUTS, LETTERS):
                records, _ = read_table(self.client, table, READ_FIELDS, self._formula(table))
                for record in records:
                    row = _row(record)
                    if row is not None:
                        self._rows[row.key] = row
                        self._ids[row.key] = record["id"]
        return self._rows

    def _formula(self, table: str) -> str | None:
        """For a mission's targeted run, only the rows its rules can issue: its two payout
        notices, and the ends of sponsorship (one per godchild)."""
        if self.scope is None or self.scope.kind is not ScopeKind.MISSION:
            return None
        if table == PAYOUTS:
            keys = [f"{kind}:{self.scope.record_id}" for kind in sorted(PAYOUT_KINDS)]
            return "OR(" + ",".join(f"{{{KEY}}}='{key}'" for key in keys) + ")"
        return f"FIND('sponsorship_end:', {{{KEY}}})=1"

    def claim(self, rows: list[LedgerRow]) -> list[str]:
        known = self._read()
        fresh = [row for row in rows if row.key not in known]
        created: list[str] = []
        for table in (PAYOUTS, LETTERS):
            batch = [row for row in fresh if table_for(row.kind) == table]
            if not batch:
                continue
            uncertain = self.client.adapter.uncertain_writes
            result = self.client.table(table).batch_upsert(
                [{"fields": claim_fields(row)} for row in batch], key_fields=[KEY]
            )
            resent = self.client.adapter.uncertain_writes > uncertain
            new_ids = set(result["createdRecords"])
            by_key = {r["fields"][KEY]: r["id"] for r in result["records"]}
            for row in batch:
                self._ids[row.key] = by_key[row.key]
                known[row.key] = row
                if by_key[row.key] in new_ids or resent:
                    created.append(row.key)
        return created

    def reclaim(self, keys: list[str]) -> list[str]:
        rows = self._read()
        taken = [k for k in keys if k in rows and rows[k].status is LedgerStatus.FAILED]
        for key in taken:
            self._queue(key, {STATUS: LedgerStatus.PENDING.value})
            rows[key] = _with_status(rows[key], LedgerStatus.PENDING)
        self.flush()
        return taken

    def mark(self, key: str, status: LedgerStatus, document: str | None = None) -> None:
        rows = self._read()
        if key not in rows:
            raise KeyError(f"Clé absente du registre : {key}")
        fields: dict[str, Any] = {STATUS: status.value}
        if document is not None:
            fields[DOCUMENT] = document
        rows[key] = _with_status(rows[key], status)
        self._queue(key, fields)

    def _queue(self, key: str, fields: dict[str, Any]) -> None:
        table = table_for(self._read()[key].kind)
        self._pending_marks[table].setdefault(self._ids[key], {}).update(fields)
        if len(self._pending_marks[table]) >= BATCH:
            self._write(table)

    def _write(self, table: str) -> None:
        updates = self._pending_marks.pop(table, {})
        if updates:
            self.client.table(table).batch_update(
                [{"id": rec_id, "fields": fields} for rec_id, fields in updates.items()]
            )

    def flush(self) -> None:
        """Write every buffered status change (10 rows a request)."""
        for table in list(self._pending_marks):
            self._write(table)


def _with_status(row: LedgerRow, status: LedgerStatus) -> LedgerRow:
    from dataclasses import replace

    return replace(row, status=status)
