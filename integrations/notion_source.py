"""The cooperative's tables as Notion databases: the ``Source`` of a run on Notion.

A run reads each table's data source whole, 100 pages a request; a mission's targeted run reads
only the mission's page and its members' (Notion has no filter on page ids). A property the
database lacks becomes a data error for the staff, as on Airtable; an optional table Notion does
not show (unknown or not shared) leaves its rules unapplied. A required one, a refused secret or
capability, end the run with ``SourceRefused`` (``integrations.refusals``).

    >>> client = NotionClient(NotionSettings.from_environment(config.notion))  # doctest: +SKIP
    >>> tables = NotionSource(client).read(Schema.default())                  # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from charter.scope import Scope, ScopeKind
from integrations.base import DataError, SourceRecord, SourceTables, link_ids
from integrations.cells import build_record, missing_required_fields
from integrations.notion import NotionClient
from integrations.notion_properties import (
    cell_value,
    page_title,
    plain_value,
    property_value,
    same_id,
)
from integrations.refusals import Context, SourceRefused, refused
from settings.schema import UNNAMED_TABLES, Schema, TableSpec


class NotionSource:
    """The cooperative's tables as Notion databases, named as in the mapping."""

    name = "notion"

    def __init__(self, client: NotionClient) -> None:
        self.client = client

    def read(
        self, schema: Schema, scope: Scope | None = None, into: SourceTables | None = None
    ) -> SourceTables:
        """Every table, ⌈pages/100⌉ requests each; for a mission's targeted run, only that
        mission and its members."""
        if scope is not None and scope.kind is ScopeKind.MISSION:
            return self._read_mission(schema, scope.record_id)
        result = SourceTables() if into is None else into
        for spec in schema.tables.values():
            pages = self._table_pages(result, spec)
            if pages is not None:
                self._add(result, spec, pages)
        return result

    def _read_mission(self, schema: Schema, mission_id: str) -> SourceTables:
        """The mission's page (1 request), each member it links to (1 each), their sponsors
        not among them (1 each): Notion has no filter on page ids, and a mission links to a
        handful of members."""
        result = SourceTables()
        missions, members = schema.table("missions"), schema.table("members")
        mission = self._page_of(missions, mission_id)
        self._add(result, missions, [mission] if mission else [])
        linked = result.links(missions, "members")
        pages = [p for p in (self._page_of(members, i) for i in sorted(linked)) if p]
        label = members.field("sponsor").label
        sponsors = {s for p in pages for s in link_ids(plain_value(p["properties"].get(label)))}
        pages += [p for p in (self._page_of(members, i) for i in sorted(sponsors - linked)) if p]
        if pages:
            self._add(result, members, pages)
        return result

    def _page_of(self, spec: TableSpec, page_id: str) -> dict[str, Any] | None:
        """A page of the table ``spec``, or ``None`` when it is unknown or elsewhere."""
        with refused(_context(spec)):
            page = self.client.page(page_id)
            source = self.client.data_source(spec.key)
        parent = (page or {}).get("parent", {})
        if page is None or (source and not same_id(parent.get("data_source_id"), source)):
            return None
        return page

    def _table_pages(self, result: SourceTables, spec: TableSpec) -> list[dict[str, Any]] | None:
        """Every page of a table; ``None`` (and the reason in ``result``) when it has none."""
        try:
            with refused(_context(spec)):
                source = self.client.data_source(spec.key)
                if source is not None:
                    return self.client.query(source)
        except SourceRefused as refusal:
            if spec.required or refusal.code != "object_not_found":
                raise
            result.missing_tables.append(spec.key)
            return None
        if spec.required:
            message = (
                f"La table {spec.label} est obligatoire, mais aucune base Notion ne lui est "
                f"associée ([notion.databases] {spec.key})."
            )
            result.errors.append(DataError(spec.label, None, None, message))
        else:
            result.missing_tables.append(spec.key)
        return None

    def _add(self, result: SourceTables, spec: TableSpec, pages: list[dict[str, Any]]) -> None:
        """The pages as records; a required property the database lacks (every page lists
        every property) makes the whole table an error."""
        present = set(pages[0].get("properties", {})) if pages else None
        absent = set() if present is None else {f.label for f in spec.fields} - present
        if not missing_required_fields(spec, absent, "la base Notion", result.errors):
            result.add(spec.key, [self._record(spec, p, result.errors) for p in pages])

    def _record(
        self, spec: TableSpec, page: dict[str, Any], errors: list[DataError]
    ) -> SourceRecord:
        props = page.get("properties", {})
        cells: dict[str, Any] = {}
        for f in spec.fields:
            prop = props.get(f.label)
            if prop and prop.get("type") == "relation" and prop.get("has_more"):
                with refused(_context(spec)):
                    ids = self.client.relation_ids(page["id"], prop["id"])
                prop = {**prop, "relation": [{"id": i} for i in ids], "has_more": False}
            cells[f.key] = prop
        primary_value = plain_value(cells.get(spec.primary.key))
        primary = None
        if spec.key not in UNNAMED_TABLES and isinstance(primary_value, str):
            primary = primary_value.strip() or None
        name = primary or page_title(page) or f"fiche {page['id']}"
        return build_record(spec, page["id"], name, primary, cells, cell_value, errors)

    def write_statuses(self, schema: Schema, statuses: dict[str, str]) -> int:
        """Write Membres.Statut for the given page ids, one request each; return pages written."""
        label = schema.label("members", "status")
        spec = schema.table("members")
        for page_id, status in statuses.items():
            context = Context(
                "notion",
                "update",
                table=spec.label,
                mapping_key=spec.key,
                database_key=spec.key,
                field=label,
                field_key="status",
                payload=({label: status},),
            )
            with refused(context):
                self.client.update_page(page_id, {label: property_value("select", status)})
        return len(statuses)


def _context(spec: TableSpec) -> Context:
    """A read of the table ``spec``: named by its label and its ``[notion.databases]`` key."""
    return Context("notion", "read", table=spec.label, mapping_key=spec.key, database_key=spec.key)
