"""The ledger's tables and fields in the cooperative's own base, whatever the base.

Airtable and Notion hold the same ledger: one row per issued document, keyed by ``Clé``, payout
notices in **Versements** and every other document in **Courriers**, with the same field labels
(docs/data-model.md). This module names those tables and fields once, turns a ``LedgerRow`` into the
plain cells of a new row and back, and says which rows a mission's targeted run may issue. The
adapters (``integrations.airtable_ledger``, ``integrations.notion_ledger``) only speak their API.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from charter.kinds import SUMMARY_FIELDS
from charter.model import LedgerStatus
from charter.scope import Scope, ScopeKind
from integrations.ledger import LedgerRow

PAYOUTS = "Versements"
LETTERS = "Courriers"
#: Both ledger tables, in the order a run reads them.
TABLES = (PAYOUTS, LETTERS)
#: The key of each ledger table, as ``[notion.databases]`` names it.
TABLE_KEYS = {PAYOUTS: "payouts", LETTERS: "letters"}
PAYOUT_KINDS = frozenset({"payout_mid", "payout_delivery"})
#: The options of ``Type`` (every kind of document) and of ``Statut``.
KINDS = tuple(SUMMARY_FIELDS)
STATUSES = tuple(status.value for status in LedgerStatus)

# Field labels, as docs/data-model.md names them.
KEY, KIND, MEMBER, MISSION, AMOUNT, STATUS = "Clé", "Type", "Membre", "Mission", "Montant", "Statut"
ISSUED_ON, REGISTERED, NUMBER, POSTED_ON = "Émis le", "Recommandé", "N° de recommandé", "Posté le"
DOCUMENT, DETAILS = "Document", "Détails"
RATE, MARGIN, TOTAL, PAID_BEFORE, DATE = "Taux", "Marge brute", "Total", "Déjà versé", "Date"

#: The fields a run reads back from the ledger.
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
    """The ledger table that holds documents of ``kind``."""
    return PAYOUTS if kind in PAYOUT_KINDS else LETTERS


def _number(value: Any) -> float | None:
    return None if value in (None, "") else float(Decimal(str(value)))


def claim_fields(row: LedgerRow) -> dict[str, Any]:
    """The cells of a newly claimed ledger row, by label, as plain JSON values (empty ones left
    out): links are lists of record ids, dates ISO strings, amounts floats."""
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


def row_from_cells(cells: dict[str, Any]) -> LedgerRow | None:
    """The ledger row that plain cells (by label) hold; ``None`` without a key or a known
    status (a row a person added by hand, say)."""
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


@dataclass(frozen=True)
class Selection:
    """Which rows of a ledger table a run reads: those with one of ``keys``, or whose key
    starts with ``prefix``."""

    keys: tuple[str, ...] = ()
    prefix: str | None = None


def targeted_selection(scope: Scope | None, table: str) -> Selection | None:
    """For a mission's targeted run, only the rows its rules can issue: its two payout
    notices, and the ends of sponsorship (one per godchild); ``None``: every row."""
    if scope is None or scope.kind is not ScopeKind.MISSION:
        return None
    if table == PAYOUTS:
        return Selection(keys=tuple(f"{kind}:{scope.record_id}" for kind in sorted(PAYOUT_KINDS)))
    return Selection(prefix="sponsorship_end:")
