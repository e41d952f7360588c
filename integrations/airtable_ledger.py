"""The ledger in the cooperative's own Airtable base: Versements and Courriers (docs/data-model.md).

One row per issued document, keyed by ``Clé``: payout notices in **Versements**, every other
document in **Courriers**. Claiming is an upsert on ``Clé`` (a repeated write is harmless), and a
key counts as claimed by this run only when Airtable reports the row as created, or when the
upsert had to be sent again after a failure that may have followed its being applied (timeout,
lost connection, 5xx): the row the retry finds was then created by this run's first attempt,
since the key was absent when the run read the ledger and no other run writes to the base
meanwhile. Otherwise a lost answer would leave up to 10 letters unsent, waiting for a person.
Status changes are buffered and written 10 rows a request, so a run's writes cost ⌈rows/10⌉
requests a table; what a run killed before a write had buffered is on disk in its journal
(``integrations.journal``), which the next run carries into the ledger (``services.journal``).
Airtable has no conditional write: runs on one base must not overlap (a Prefect concurrency limit
serialises them).

A refusal a person can fix (``integrations.refusals``) ends the run; if Versements took its
claims and Courriers then refused them, the claimed rows are marked ``failed`` first, so the run
after the fix issues those documents rather than leaving them waiting for a person.

The ledger remembers what this run claimed (``claimed``), the outcome it gave each document
(``outcomes``) and which outcomes are not yet written (``unwritten``): when Airtable stops
answering because the workspace's monthly quota is spent, ``services.ledger.save_backlog``
keeps them in the out folder for the next run to write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from charter.model import LedgerStatus
from charter.scope import Scope
from integrations.airtable import AirtableClient, read_table
from integrations.ledger import CachedLedger, LedgerRow
from integrations.ledger_fields import (
    DOCUMENT,
    KEY,
    READ_FIELDS,
    STATUS,
    TABLES,
    Selection,
    claim_fields,
    row_from_cells,
    table_for,
    targeted_selection,
)
from integrations.refusals import Context, SourceRefused, refused

#: Rows Airtable writes in one request, at most.
BATCH = 10


def formula(selection: Selection | None) -> str | None:
    """The Airtable formula that selects the rows of ``selection``."""
    if selection is None:
        return None
    if selection.prefix is not None:
        return f"FIND('{selection.prefix}', {{{KEY}}})=1"
    return "OR(" + ",".join(f"{{{KEY}}}='{key}'" for key in selection.keys) + ")"


class AirtableLedger(CachedLedger):
    """The ``LedgerStore`` of a run whose source is Airtable."""

    def __init__(self, client: AirtableClient, scope: Scope | None = None) -> None:
        super().__init__(scope)
        self.client = client
        self._pending_marks: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        #: Rows this run claimed (or took back for a retry), by key, even if Airtable's answer
        #: never came; the outcome this run gave each; the keys whose outcome is not written.
        self.claimed: dict[str, LedgerRow] = {}
        self.outcomes: dict[str, tuple[LedgerStatus, str | None]] = {}
        self.unwritten: set[str] = set()
        self._queued: dict[str, set[str]] = defaultdict(set)

    def _fetch(self) -> Iterator[tuple[str, LedgerRow | None]]:
        for table in TABLES:
            selection = targeted_selection(self.scope, table)
            with refused(self._context("read", table)):
                records, _ = read_table(self.client, table, READ_FIELDS, formula(selection))
            for record in records:
                yield record["id"], row_from_cells(record.get("fields", {}))

    def _context(
        self, action: str, table: str, payload: Sequence[Mapping[str, Any]] = ()
    ) -> Context:
        base = self.client.settings.base_id
        return Context("airtable", action, base=base, table=table, payload=tuple(payload))

    def claim(self, rows: list[LedgerRow]) -> list[str]:
        created: list[str] = []
        try:
            self._claim(rows, created)
        except SourceRefused:
            # Claimed in one table, refused in the other: give the pending ones back.
            for key in created:
                if self._row(key).status is LedgerStatus.PENDING:
                    self.mark(key, LedgerStatus.FAILED)
            self.flush()
            raise
        return created

    def _claim(self, rows: list[LedgerRow], created: list[str]) -> None:
        known = self._read()
        fresh = [row for row in rows if row.key not in known]
        for table in TABLES:
            batch = [row for row in fresh if table_for(row.kind) == table]
            if not batch:
                continue
            self.claimed.update({row.key: row for row in batch})
            self.journal.claiming(row.key for row in batch if row.to_send)
            uncertain = self.client.adapter.uncertain_writes
            cells = [claim_fields(row) for row in batch]
            with refused(self._context("write", table, cells)):
                result = self.client.table(table).batch_upsert(
                    [{"fields": fields} for fields in cells], key_fields=[KEY]
                )
            resent = self.client.adapter.uncertain_writes > uncertain
            new_ids = set(result["createdRecords"])
            by_key = {r["fields"][KEY]: r["id"] for r in result["records"]}
            for row in batch:
                self._ids[row.key] = by_key[row.key]
                known[row.key] = row
                if by_key[row.key] in new_ids or resent:
                    created.append(row.key)
            self.journal.claimed(set(created) & {row.key for row in batch if row.to_send})

    def reclaim(self, keys: list[str]) -> list[str]:
        taken = self._failed(keys)
        self.claimed.update({key: self._row(key) for key in taken})
        self.journal.claiming(taken)
        for key in taken:
            self._queue(key, {STATUS: LedgerStatus.PENDING.value})
            self._read()[key] = replace(self._row(key), status=LedgerStatus.PENDING)
        self.flush()
        self.journal.claimed(taken)
        return taken

    def mark(self, key: str, status: LedgerStatus, document: str | None = None) -> None:
        row = self._row(key)
        fields: dict[str, Any] = {STATUS: status.value}
        if document is not None:
            fields[DOCUMENT] = document
        self._read()[key] = replace(row, status=status)
        self.outcomes[key] = (status, document)
        self._queue(key, fields)

    def _queue(self, key: str, fields: dict[str, Any]) -> None:
        table = table_for(self._row(key).kind)
        self._pending_marks[table].setdefault(self._ids[key], {}).update(fields)
        self._queued[table].add(key)
        self.unwritten.add(key)
        if len(self._pending_marks[table]) >= BATCH:
            self._write(table)

    def _write(self, table: str) -> None:
        updates = self._pending_marks.pop(table, {})
        if updates:
            with refused(self._context("write", table, list(updates.values()))):
                self.client.table(table).batch_update(
                    [{"id": rec_id, "fields": fields} for rec_id, fields in updates.items()]
                )
        self.unwritten -= self._queued.pop(table, set())

    def flush(self) -> None:
        """Write every buffered status change (10 rows a request)."""
        for table in list(self._pending_marks):
            self._write(table)
