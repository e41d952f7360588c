"""``run-summary.json``: what one run issued, the alerts and the data errors.

Amounts are strings with two decimals, rates decimal strings, dates ISO strings; members,
missions and sponsors are named by their primary values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from charter.kinds import SUMMARY_FIELDS
from charter.model import Alert, Cooperative, Document, RuleError
from charter.money import CENT
from integrations.base import DataError
from settings.schema import Schema

MONEY_FIELDS = frozenset({"gross_margin", "amount", "total", "paid_before"})


@dataclass(frozen=True)
class Issued:
    """A document this run issued, and how it went out.

    ``details`` is what the summary says of it (``document_details``), also kept in the ledger
    so that a retry reports the document as it was first issued.
    """

    details: dict[str, Any]
    files: list[str]
    delivery: str  # email, outbox, failed or pending


@dataclass
class RunSummary:
    as_of: date
    source: str
    documents: list[dict[str, Any]] = field(default_factory=list)
    alerts: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: A preview run (``services.preview``): nothing was sent, claimed or written.
    preview: bool = False
    #: HTTP requests the run made to its source (Airtable, Notion); 0 for a local folder.
    source_requests: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "source": self.source,
            "preview": self.preview,
            "source_requests": self.source_requests,
            "documents": self.documents,
            "alerts": self.alerts,
            "errors": self.errors,
        }


def json_value(value: Any, name: str = "") -> Any:
    """A fact as the summary writes it."""
    if isinstance(value, Decimal):
        return str(value.quantize(CENT)) if name in MONEY_FIELDS else str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [json_value(v) for v in value]
    if isinstance(value, tuple):
        return [json_value(v) for v in value]
    return value


class Namer:
    """Turns record ids into the names the staff know (primary values, labels)."""

    def __init__(self, coop: Cooperative, schema: Schema) -> None:
        self.coop = coop
        self.schema = schema

    def member(self, member_id: str | None) -> str | None:
        if member_id is None:
            return None
        member = self.coop.members.get(member_id)
        return member.name if member else member_id

    def mission(self, mission_id: str | None) -> str | None:
        if mission_id is None:
            return None
        mission = self.coop.missions.get(mission_id)
        return mission.title if mission else mission_id

    def record(self, table: str, record_id: str) -> str:
        if table == "members":
            return self.member(record_id) or record_id
        if table == "missions":
            return self.mission(record_id) or record_id
        return record_id

    def error(self, error: RuleError) -> DataError:
        return DataError(
            table=self.schema.label(error.table),
            record=self.record(error.table, error.record_id),
            field=self.schema.label(error.table, error.field),
            message=error.message,
        )


def document_details(doc: Document, namer: Namer) -> dict[str, Any]:
    """The summary's description of a document: kind, key, member, its kind's fields, and
    whether it must also go by registered post."""
    entry: dict[str, Any] = {
        "kind": doc.kind,
        "key": doc.key,
        "member": namer.member(doc.member_id),
    }
    for name in SUMMARY_FIELDS[doc.kind]:
        if name == "mission":
            entry[name] = namer.mission(doc.mission_id)
        elif name == "sponsor":
            entry[name] = namer.member(doc.sponsor_id)
        else:
            entry[name] = json_value(doc.facts[name], name)
    entry["registered"] = doc.registered
    return entry


def alert_entry(alert: Alert, namer: Namer) -> dict[str, Any]:
    entry: dict[str, Any] = {"kind": alert.kind}
    if alert.member_id is not None:
        entry["member"] = namer.member(alert.member_id)
    if alert.mission_id is not None:
        entry["mission"] = namer.mission(alert.mission_id)
    entry["message"] = alert.message
    for name, value in alert.extra.items():
        entry.setdefault(name, json_value(value, name))
    return entry


def build_summary(
    *,
    as_of: date,
    source: str,
    issued: list[Issued],
    alerts: list[Alert],
    errors: list[DataError],
    namer: Namer,
    preview: bool = False,
    source_requests: int = 0,
) -> RunSummary:
    documents = [{**i.details, "files": i.files, "delivery": i.delivery} for i in issued]
    documents.sort(key=lambda d: (d["kind"], d["member"] or "", d["key"]))
    return RunSummary(
        as_of=as_of,
        source=source,
        documents=documents,
        alerts=[alert_entry(a, namer) for a in alerts],
        errors=[e.as_dict() for e in errors],
        preview=preview,
        source_requests=source_requests,
    )
