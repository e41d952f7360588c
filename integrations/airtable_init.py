"""``cae airtable init``: build the cooperative's tables in an Airtable base, from nothing.

Tables and fields are created through the Meta API with their types and select options; link
fields come second, once the tables they point to exist. Running it again only adds what is
missing. ``--with-example`` then loads the bundled example cooperative, 10 records a request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from integrations import ledger_fields as ledger
from integrations.airtable import AirtableClient
from integrations.refusals import Context, refused
from integrations.workbook import LocalWorkbook, with_ids
from settings.schema import FieldSpec, FieldType, Schema, TableSpec

_DATE = {"dateFormat": {"name": "iso"}}
_CHECKBOX = {"icon": "check", "color": "greenBright"}
_CURRENCY = {"precision": 2, "symbol": "€"}


def _select(choices: Iterable[str]) -> dict[str, Any]:
    return {"choices": [{"name": choice} for choice in choices]}


def field_definition(spec: FieldSpec, table_ids: dict[str, str]) -> dict[str, Any]:
    """The Meta API definition of one field of docs/data-model.md."""
    kinds: dict[FieldType, tuple[str, dict[str, Any] | None]] = {
        FieldType.TEXT: ("singleLineText", None),
        FieldType.LONG_TEXT: ("multilineText", None),
        FieldType.EMAIL: ("email", None),
        FieldType.SELECT: ("singleSelect", _select(spec.options)),
        FieldType.DATE: ("date", _DATE),
        FieldType.CHECKBOX: ("checkbox", _CHECKBOX),
        FieldType.CURRENCY: ("currency", _CURRENCY),
        FieldType.NUMBER: ("number", {"precision": 1}),
    }
    if spec.type in (FieldType.LINK, FieldType.LINKS):
        assert spec.link_table is not None
        options: dict[str, Any] = {"linkedTableId": table_ids[spec.link_table]}
        return {"name": spec.label, "type": "multipleRecordLinks", "options": options}
    type_, options_ = kinds[spec.type]
    definition: dict[str, Any] = {"name": spec.label, "type": type_}
    if options_ is not None:
        definition["options"] = options_
    return definition


def ledger_fields(payouts: bool, members_id: str, missions_id: str) -> list[dict[str, Any]]:
    """Versements (payouts) or Courriers (every other letter): the ledger's columns."""
    fields: list[dict[str, Any]] = [
        {"name": ledger.KEY, "type": "singleLineText"},
        {"name": ledger.KIND, "type": "singleSelect", "options": _select(ledger.KINDS)},
        {
            "name": ledger.MEMBER,
            "type": "multipleRecordLinks",
            "options": {"linkedTableId": members_id},
        },
        {
            "name": ledger.MISSION,
            "type": "multipleRecordLinks",
            "options": {"linkedTableId": missions_id},
        },
        {"name": ledger.AMOUNT, "type": "currency", "options": _CURRENCY},
        {"name": ledger.STATUS, "type": "singleSelect", "options": _select(ledger.STATUSES)},
        {"name": ledger.ISSUED_ON, "type": "date", "options": _DATE},
        {"name": ledger.REGISTERED, "type": "checkbox", "options": _CHECKBOX},
        {"name": ledger.NUMBER, "type": "singleLineText"},
        {"name": ledger.POSTED_ON, "type": "date", "options": _DATE},
        {"name": ledger.DOCUMENT, "type": "singleLineText"},
        {"name": ledger.DETAILS, "type": "multilineText"},
    ]
    if payouts:
        fields += [
            {"name": ledger.RATE, "type": "percent", "options": {"precision": 0}},
            {"name": ledger.MARGIN, "type": "currency", "options": _CURRENCY},
            {"name": ledger.TOTAL, "type": "currency", "options": _CURRENCY},
            {"name": ledger.PAID_BEFORE, "type": "currency", "options": _CURRENCY},
        ]
    else:
        fields.append({"name": ledger.DATE, "type": "date", "options": _DATE})
    return fields


@dataclass
class InitReport:
    tables_created: list[str] = field(default_factory=list)
    fields_created: list[str] = field(default_factory=list)
    records_created: int = 0


def init_base(client: AirtableClient, schema: Schema, example: Path | None = None) -> InitReport:
    """Create what the base lacks; with ``example``, load that CSV folder's records. A refusal
    a person can fix (wrong token, base, or scopes) raises ``SourceRefused``."""
    base = client.settings.base_id
    with refused(Context("airtable", "init", base=base)):
        report = _create_tables(client, schema)
    if example is not None:
        with refused(Context("airtable", "write", base=base)):
            report.records_created = load_records(client, schema, example)
    return report


def _create_tables(client: AirtableClient, schema: Schema) -> InitReport:
    report = InitReport()
    existing = {t.name: t for t in client.base.schema(force=True).tables}
    table_ids = {}
    for spec in schema.tables.values():
        if spec.label in existing:
            table_ids[spec.key] = existing[spec.label].id
            continue
        plain = [field_definition(f, {}) for f in spec.fields if f.link_table is None]
        table_ids[spec.key] = client.base.create_table(spec.label, plain).id
        report.tables_created.append(spec.label)
    for spec in schema.tables.values():
        have = {f.name for f in existing[spec.label].fields} if spec.label in existing else set()
        for f in spec.fields:
            if f.label in have or (f.link_table is None and spec.label not in existing):
                continue
            definition = field_definition(f, table_ids)
            client.table(spec.label).create_field(
                f.label, definition["type"], options=definition.get("options")
            )
            report.fields_created.append(f"{spec.label}.{f.label}")
    for name, payouts in ((ledger.PAYOUTS, True), (ledger.LETTERS, False)):
        wanted = ledger_fields(payouts, table_ids["members"], table_ids["missions"])
        if name not in existing:
            client.base.create_table(name, wanted)
            report.tables_created.append(name)
            continue
        have = {f.name for f in existing[name].fields}
        for definition in wanted:
            if definition["name"] not in have:
                client.table(name).create_field(
                    definition["name"], definition["type"], options=definition.get("options")
                )
                report.fields_created.append(f"{name}.{definition['name']}")
    return report


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def load_records(client: AirtableClient, schema: Schema, folder: Path) -> int:
    """Copy a CSV folder's records into the base: links by name become record ids.

    Values the CSV could not read stay empty, and links to records that do not exist are
    dropped: Airtable's typed fields cannot hold them. Unknown select values are kept
    (``typecast``), so the daily job reports them as it would from the folder.
    """
    tables = LocalWorkbook(folder).read(schema).tables
    ids: dict[str, dict[str, str]] = {}
    created = 0
    for key, records in tables.items():
        spec = schema.table(key)
        deferred = [f for f in spec.fields if f.link_table == key]  # e.g. a member's sponsor
        rows = [_fields(spec, r.values, ids, skip=deferred) for r in records]
        made = client.table(spec.label).batch_create(rows, typecast=True)
        ids[key] = {r.id: m["id"] for r, m in zip(records, made, strict=True)}
        created += len(made)
        if deferred:
            updates = [
                {"id": ids[key][r.id], "fields": _fields(spec, r.values, ids, only=deferred)}
                for r in records
                if any(f.key in r.values for f in deferred)
            ]
            client.table(spec.label).batch_update(updates)
    return created


def _fields(
    spec: TableSpec,
    values: dict[str, Any],
    ids: dict[str, dict[str, str]],
    skip: list[FieldSpec] = (),  # type: ignore[assignment]
    only: list[FieldSpec] | None = None,
) -> dict[str, Any]:
    """The cells of a record read from the folder, by label, as Airtable's JSON takes them."""
    selected = only if only is not None else [f for f in spec.fields if f not in skip]
    return {f.label: _json(value) for f, value in with_ids(selected, values, ids)}
