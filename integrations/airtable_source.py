"""The cooperative's tables in one Airtable base: the ``Source`` of a run on Airtable.

A run reads each table whole, 100 records a request and only the mapped fields; a mission's
targeted run reads only the mission and its members, by a formula on their record ids. A field
the table lacks becomes a data error for the staff; an optional table the base does not have
leaves its rules unapplied. Airtable answers 403 both for a table the base lacks and for a base
the token cannot read: when every table read is refused, the base is (``SourceRefused`` naming
the base id and the token's scope); when only a required table is, that table is.

    >>> client = AirtableClient(AirtableSettings(base_id="app…", token="pat…"))  # doctest: +SKIP
    >>> tables = AirtableSource(client).read(Schema.default())                  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

import requests

from charter.scope import Scope, ScopeKind
from integrations.airtable import AirtableClient, read_table
from integrations.base import DataError, SourceRecord, SourceTables, link_ids
from integrations.cells import build_record, json_value, missing_required_fields
from integrations.refusals import Context, SourceRefused, explain, refused
from settings.schema import UNNAMED_TABLES, Schema, TableSpec


class AirtableSource:
    """The cooperative's tables in one Airtable base, named as in the mapping."""

    name = "airtable"

    def __init__(self, client: AirtableClient) -> None:
        self.client = client

    def read(
        self, schema: Schema, scope: Scope | None = None, into: SourceTables | None = None
    ) -> SourceTables:
        """Every table; for a mission's targeted run, only that mission and its members."""
        if scope is not None and scope.kind is ScopeKind.MISSION:
            return self._read_mission(schema, scope.record_id)
        result = SourceTables() if into is None else into
        refusals = [(spec, self._read_into(result, spec)) for spec in schema.tables.values()]
        self._refused(result, refusals)
        return result

    def _read_mission(self, schema: Schema, mission_id: str) -> SourceTables:
        """The mission (1 request), the members it links to (1), their sponsors (at most 1)."""
        result = SourceTables()
        missions, members = schema.table("missions"), schema.table("members")
        self._refused(result, [(missions, self._read_into(result, missions, by_ids([mission_id])))])
        linked = result.links(missions, "members")
        if not linked:
            return result
        self._read_members(result, members, sorted(linked))
        sponsors = {
            sponsor
            for record in result.tables.get("members", [])
            for sponsor in link_ids(record.values.get("sponsor"))
        } - linked
        if sponsors:
            read = result.tables.pop("members", [])
            self._read_members(result, members, sorted(sponsors))
            result.tables["members"] = read + result.tables.get("members", [])
        return result

    def _read_members(self, result: SourceTables, members: TableSpec, ids: list[str]) -> None:
        """The members of a mission (or their sponsors): the missions were read, so a refusal
        here is the table's."""
        error = self._read_into(result, members, by_ids(ids))
        if error is not None:
            raise _refusal(error, self._context(members)) from error

    def _read_into(
        self, result: SourceTables, spec: TableSpec, formula: str | None = None
    ) -> requests.HTTPError | None:
        """Read one table into ``result``; return Airtable's 403 or 404 if it refused it."""
        context = self._context(spec)
        try:
            with refused(context):
                records, missing = read_table(
                    self.client, spec.label, [f.label for f in spec.fields], formula
                )
        except SourceRefused as refusal:
            if refusal.status not in (403, 404):
                raise
            assert isinstance(refusal.__cause__, requests.HTTPError)
            return refusal.__cause__
        if not missing_required_fields(spec, missing, "la table", result.errors):
            result.add(spec.key, [source_record(spec, r, result.errors) for r in records])
        return None

    def _context(self, spec: TableSpec | None = None, action: str = "read") -> Context:
        base = self.client.settings.base_id
        if spec is None:
            return Context("airtable", action, base=base)
        return Context("airtable", action, base=base, table=spec.label, mapping_key=spec.key)

    def _refused(
        self, result: SourceTables, reads: list[tuple[TableSpec, requests.HTTPError | None]]
    ) -> None:
        """Every table refused: the base is. A required table refused: the run cannot go on.
        An optional one: its rules are not applied (listed in the run's report)."""
        refusals = [(spec, error) for spec, error in reads if error is not None]
        if refusals and len(refusals) == len(reads):
            raise _refusal(refusals[0][1], self._context()) from refusals[0][1]
        for spec, error in refusals:
            if spec.required:
                raise _refusal(error, self._context(spec)) from error
            result.missing_tables.append(spec.key)

    def write_statuses(self, schema: Schema, statuses: dict[str, str]) -> int:
        """Write Membres.Statut for the given record ids, 10 a request; return rows written."""
        if not statuses:
            return 0
        label = schema.label("members", "status")
        records = [{"id": rec_id, "fields": {label: status}} for rec_id, status in statuses.items()]
        context = Context(
            "airtable",
            "write",
            base=self.client.settings.base_id,
            table=schema.label("members"),
            mapping_key="members",
            field=label,
            field_key="status",
            payload=tuple(r["fields"] for r in records),
        )
        with refused(context):
            self.client.table(schema.label("members")).batch_update(records)
        return len(statuses)


def _refusal(error: requests.HTTPError, context: Context) -> SourceRefused:
    refusal = explain(error, context)
    assert refusal is not None  # a 403 or 404, which explain always explains
    return refusal


def source_record(spec: TableSpec, record: dict[str, Any], errors: list[DataError]) -> SourceRecord:
    """The source record an Airtable record holds; its bad cells go to ``errors``."""
    fields = record.get("fields", {})
    cells = {f.key: fields.get(f.label) for f in spec.fields}
    primary_value = cells.get(spec.primary.key)
    primary = None
    if spec.key not in UNNAMED_TABLES and isinstance(primary_value, str) and primary_value.strip():
        primary = primary_value.strip()
    name = primary or f"fiche {record['id']}"
    return build_record(spec, record["id"], name, primary, cells, json_value, errors)


def by_ids(record_ids: list[str]) -> str:
    """A formula selecting records by id: ``OR(RECORD_ID()='rec…', …)``."""
    return "OR(" + ",".join(f"RECORD_ID()='{_quote(i)}'" for i in record_ids) + ")"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
