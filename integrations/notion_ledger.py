"""The ledger in the cooperative's own Notion: databases Versements and Courriers
(docs/data-model.md).

The same rows and fields as on Airtable (``integrations.ledger_fields``): one page per issued
document, its key in ``Clé`` (the title), payout notices in **Versements**, every other document
in **Courriers**. Notion has no batch write and no upsert, so:

- a run reads both data sources once, 100 pages a request; a mission's targeted run reads only
  the keys its rules can issue, by a filter on ``Clé``;
- claiming a key creates its page, one request per new key, and the key counts as claimed by
  this run; a create whose answer is lost or is a server error is not sent again blindly: the
  page is first looked for by its key (``NotionClient.create_page``);
- each status change is written at once, one page update, and only when it changes the page.

Notion has no conditional write either: runs on one workspace must not overlap (a Prefect
concurrency limit serialises them), as on Airtable.

A refusal a person can fix (``integrations.refusals``) ends the run; the pages this claim had
created are marked ``failed`` first (when Notion lets the integration update them), so the run
after the fix issues those documents rather than leaving them waiting for a person.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from charter.model import LedgerStatus
from charter.scope import Scope
from integrations.ledger import CachedLedger, LedgerRow
from integrations.ledger_fields import (
    AMOUNT,
    DATE,
    DETAILS,
    DOCUMENT,
    ISSUED_ON,
    KEY,
    KIND,
    MARGIN,
    MEMBER,
    MISSION,
    NUMBER,
    PAID_BEFORE,
    POSTED_ON,
    RATE,
    REGISTERED,
    STATUS,
    TABLE_KEYS,
    TABLES,
    TOTAL,
    Selection,
    claim_fields,
    row_from_cells,
    table_for,
    targeted_selection,
)
from integrations.notion import NotionClient
from integrations.notion_properties import plain_value, property_value
from integrations.refusals import Context, SourceRefused, refused

#: The Notion type of each ledger field.
TYPES = {
    KEY: "title",
    KIND: "select",
    MEMBER: "relation",
    MISSION: "relation",
    AMOUNT: "number",
    STATUS: "select",
    ISSUED_ON: "date",
    REGISTERED: "checkbox",
    NUMBER: "rich_text",
    POSTED_ON: "date",
    DOCUMENT: "rich_text",
    DETAILS: "rich_text",  # JSON, in pieces of 2,000 characters
    RATE: "number",
    MARGIN: "number",
    TOTAL: "number",
    PAID_BEFORE: "number",
    DATE: "date",
}


def claim_properties(row: LedgerRow) -> dict[str, Any]:
    """The properties of a newly claimed ledger page: what Airtable's row holds, empty
    relations and unticked boxes left out."""
    return {
        label: property_value(TYPES[label], value)
        for label, value in claim_fields(row).items()
        if value not in ([], False)
    }


def ledger_row(page: dict[str, Any]) -> LedgerRow | None:
    """The ledger row a page holds; ``None`` for a page that is not one (no key, no status)."""
    cells = {
        label: value
        for label, prop in page.get("properties", {}).items()
        if (value := plain_value(prop)) not in (None, "", [])
    }
    return row_from_cells(cells)


def query_filter(selection: Selection | None) -> dict[str, Any] | None:
    """The Notion filter that selects the pages of ``selection``."""
    if selection is None:
        return None
    if selection.prefix is not None:
        return {"property": KEY, "title": {"starts_with": selection.prefix}}
    return {"or": [{"property": KEY, "title": {"equals": key}} for key in selection.keys]}


class NotionLedger(CachedLedger):
    """The ``LedgerStore`` of a run whose source is Notion."""

    def __init__(self, client: NotionClient, scope: Scope | None = None) -> None:
        super().__init__(scope)
        self.client = client

    def _source(self, table: str) -> str:
        with refused(_context("read", table)):
            source = self.client.data_source(TABLE_KEYS[table])
        if source is None:
            raise ValueError(
                f"La base Notion « {table} » (le registre) n'est pas configurée : lancez "
                f"cae notion init, puis indiquez-la dans [notion.databases] {TABLE_KEYS[table]}."
            )
        return source

    def _fetch(self) -> Iterator[tuple[str, LedgerRow | None]]:
        for table in TABLES:
            selection = targeted_selection(self.scope, table)
            source = self._source(table)
            with refused(_context("read", table)):
                pages = self.client.query(source, query_filter(selection))
            for page in pages:
                yield page["id"], ledger_row(page)

    def claim(self, rows: list[LedgerRow]) -> list[str]:
        """Create a page for each key the ledger lacks: one request each."""
        known = self._read()
        created: list[str] = []
        self.journal.claiming(row.key for row in rows if row.key not in known and row.to_send)
        try:
            for row in rows:
                if row.key in known:
                    continue
                table = table_for(row.kind)
                source = self._source(table)
                with refused(_context("insert", table)):
                    page = self.client.create_page(source, claim_properties(row), KEY)
                self._ids[row.key] = page["id"]
                known[row.key] = row
                created.append(row.key)
        except SourceRefused:
            self._give_back(created)
            raise
        sending = {row.key for row in rows if row.to_send}
        self.journal.claimed(key for key in created if key in sending)
        return created

    def _give_back(self, keys: list[str]) -> None:
        """Mark ``failed`` the pending keys a refused claim had created, if Notion lets us."""
        try:
            for key in keys:
                if self._row(key).status is LedgerStatus.PENDING:
                    self.mark(key, LedgerStatus.FAILED)
        except SourceRefused:
            pass  # they stay pending: the run's report lists them for a person

    def reclaim(self, keys: list[str]) -> list[str]:
        taken = self._failed(keys)
        self.journal.claiming(taken)
        for key in taken:
            self._write(key, replace(self._row(key), status=LedgerStatus.PENDING))
        self.journal.claimed(taken)
        return taken

    def mark(self, key: str, status: LedgerStatus, document: str | None = None) -> None:
        row = self._row(key)
        self._write(key, replace(row, status=status, document=document or row.document))

    def _write(self, key: str, row: LedgerRow) -> None:
        """Update the page of ``key`` with what differs in ``row``: one request, or none."""
        before = self._row(key)
        changes: dict[str, Any] = {}
        if row.status is not before.status:
            changes[STATUS] = property_value("select", row.status.value)
        if row.document != before.document:
            changes[DOCUMENT] = property_value("rich_text", row.document)
        if changes:
            with refused(_context("update", table_for(row.kind))):
                self.client.update_page(self._ids[key], changes)
        self._read()[key] = row

    def flush(self) -> None:
        """Every change is written at once: nothing to flush."""


def _context(action: str, table: str) -> Context:
    return Context("notion", action, table=table, database_key=TABLE_KEYS[table])
