"""The cooperative's tables in one Airtable base: the ``Source`` of a run on Airtable.

A run reads each table whole, 100 records a request and only the mapped fields; a mission's
targeted run reads only the mission and its members, by a formula on their record ids. A field
the table lacks, or a table the base does not have, becomes a data error for the staff.

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
from settings.schema import UNNAMED_TABLES, Schema, TableSpec


class AirtableSource:
    """The cooperative's tables in one Airtable base, named as in the mapping."""

    name = "airtable"

    def __init__(self, client: AirtableClient) -> None:
        self.client = client

    def read(self, schema: Schema, scope: Scope | None = None) -> SourceTables:
        """Every table; for a mission's targeted run, only that mission and its members."""
        if scope is not None and scope.kind is ScopeKind.MISSION:
            return self._read_mission(schema, scope.record_id)
        result = SourceTables()
        for spec in schema.tables.values():
            self._read_into(result, spec)
        return result

    def _read_mission(self, schema: Schema, mission_id: str) -> SourceTables:
        """The mission (1 request), the members it links to (1), their sponsors (at most 1)."""
        result = SourceTables()
        missions, members = schema.table("missions"), schema.table("members")
        self._read_into(result, missions, by_ids([mission_id]))
        linked = result.links(missions, "members")
        if not linked:
            return result
        self._read_into(result, members, by_ids(sorted(linked)))
        sponsors = {
            sponsor
            for record in result.tables.get("members", [])
            for sponsor in link_ids(record.values.get("sponsor"))
        } - linked
        if sponsors:
            read = result.tables.pop("members", [])
            self._read_into(result, members, by_ids(sorted(sponsors)))
            result.tables["members"] = read + result.tables.get("members", [])
        return result

    def _read_into(self, result: SourceTables, spec: TableSpec, formula: str | None = None) -> None:
        """Read one table into ``result``; a table that cannot be used becomes an error."""
        try:
            records, missing = read_table(
                self.client, spec.label, [f.label for f in spec.fields], formula
            )
        except requests.HTTPError as error:
            if error.response is None or error.response.status_code not in (403, 404):
                raise
            if spec.required:
                message = (
                    f"La table {spec.label} est obligatoire, mais la base Airtable ne l'a pas."
                )
                result.errors.append(DataError(spec.label, None, None, message))
            else:
                result.missing_tables.append(spec.key)
            return
        if not missing_required_fields(spec, missing, "la table", result.errors):
            result.tables[spec.key] = [source_record(spec, r, result.errors) for r in records]

    def write_statuses(self, schema: Schema, statuses: dict[str, str]) -> int:
        """Write Membres.Statut for the given record ids, 10 a request; return rows written."""
        if not statuses:
            return 0
        label = schema.label("members", "status")
        self.client.table(schema.label("members")).batch_update(
            [{"id": rec_id, "fields": {label: status}} for rec_id, status in statuses.items()]
        )
        return len(statuses)


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
