"""Small builders for the charter's records, so a test states only what it is about."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from charter.evaluate import evaluate
from charter.model import (
    Attendance,
    Cooperative,
    Document,
    Evaluation,
    Invoice,
    Ledger,
    LedgerEntry,
    LedgerStatus,
    Member,
    Mission,
    Plenary,
    Presence,
    Stage,
    VolunteeringWeek,
    Workshop,
)
from charter.params import CharterParams


def d(text: str) -> date:
    return date.fromisoformat(text)


def member(name: str, joined: str = "2020-03-15", **fields: Any) -> Member:
    return Member(id=name, name=name, joined_on=d(joined), **fields)


def mission(title: str, stage: Stage = Stage.SIGNED, **fields: Any) -> Mission:
    fields.setdefault("project_manager_id", "PM")
    fields.setdefault("lead_developer_id", "Lead")
    return Mission(id=title, title=title, stage=stage, **fields)


def invoice(number: str, who: str, on: str, amount: str, costs: str = "0") -> Invoice:
    return Invoice(number, number, who, d(on), Decimal(amount), Decimal(costs))


def coop(
    members: list[Member] = (),  # type: ignore[assignment]
    missions: list[Mission] = (),  # type: ignore[assignment]
    invoices: list[Invoice] | None = None,
    plenaries: list[tuple[str, str, Presence]] | None = None,
    volunteering: list[VolunteeringWeek] | None = None,
    workshops: list[Workshop] | None = None,
) -> Cooperative:
    """``plenaries`` is a list of (member, plenary date, presence)."""
    plenary_records = None
    attendance = None
    if plenaries is not None:
        plenary_records = {on: Plenary(on, f"Plénière {on}", d(on)) for _, on, _ in plenaries}
        attendance = [Attendance(on, who, presence) for who, on, presence in plenaries]
    return Cooperative(
        members={m.id: m for m in members},
        missions={m.id: m for m in missions},
        invoices=invoices,
        plenaries=plenary_records,
        attendance=attendance,
        volunteering=volunteering,
        workshops=workshops,
    )


def run(
    records: Cooperative,
    as_of: str,
    ledger: Ledger | None = None,
    params: CharterParams | None = None,
    go_live: str | None = None,
) -> Evaluation:
    return evaluate(records, ledger or {}, d(as_of), params, d(go_live) if go_live else None)


def ledger_of(*documents: Document, issued_on: str = "2020-01-01") -> Ledger:
    """The ledger after these documents were issued."""
    return {
        doc.key: LedgerEntry(
            doc.key,
            doc.kind,
            LedgerStatus.HISTORICAL if doc.historical else LedgerStatus.SENT,
            d(issued_on),
            doc.amount,
            doc.member_id,
            doc.mission_id,
        )
        for doc in documents
    }


def kinds(evaluation: Evaluation) -> list[str]:
    return sorted(doc.kind for doc in evaluation.documents)


def keys(evaluation: Evaluation, kind: str | None = None) -> list[str]:
    return sorted(doc.key for doc in evaluation.documents if kind is None or doc.kind == kind)


def alerts(evaluation: Evaluation, kind: str) -> list[tuple[str | None, str | None]]:
    return sorted(
        ((a.member_id, a.mission_id) for a in evaluation.alerts if a.kind == kind),
        key=str,
    )


def only(evaluation: Evaluation, kind: str) -> Document:
    found = [doc for doc in evaluation.documents if doc.kind == kind]
    assert len(found) == 1, found
    return found[0]
