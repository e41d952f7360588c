"""The Airtable emulator: its constructor, direct state helpers, fault injection, counting and
lookups; the API itself comes from the mixins beside it."""

from __future__ import annotations

import itertools
import random
import string
import sys
from collections.abc import Callable
from typing import Any

from emulators.airtable.cells import Cells
from emulators.airtable.errors import FAULT_BODIES, QUOTA_EXCEEDED_BODY, _unknown_field
from emulators.airtable.http import RequestHandling
from emulators.airtable.meta import Meta
from emulators.airtable.model import (
    SCOPES,
    ApiRequest,
    _Base,
    _Effects,
    _iso,
    _Iterator,
    _now,
    _Record,
    _Table,
    _Transaction,
    _Webhook,
)
from emulators.airtable.reads import RecordReads
from emulators.airtable.webhooks import Webhooks
from emulators.airtable.writes import RecordWrites
from emulators.loopback import Fault, LoopbackEmulator

# ---- the emulator -------------------------------------------------------------------------


class AirtableEmulator(
    RequestHandling,
    RecordReads,
    RecordWrites,
    Cells,
    Meta,
    Webhooks,
    LoopbackEmulator[ApiRequest],
):
    """An Airtable Web API on 127.0.0.1 (random port), for the real pyairtable client.

    Args:
        token: the one personal access token it accepts.
        base_id: the first base (more with ``add_base``).
        rate_limit: requests allowed per base in any one-second window; ``None`` lifts it.
        penalty_seconds: how long a base answers 429 to everything after a rate-limit 429.
        seed: makes the generated ids reproducible.
        scopes: the token's scopes (default: all five); an operation whose scope it lacks gets
            403 ``INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND``, and whoami lists them.
        max_body_bytes: the largest request body accepted; a larger one gets 413.

    ``url`` is the endpoint to give pyairtable: ``Api(token, endpoint_url=at.url)``.
    """

    thread_name = "airtable-emulator"

    def __init__(
        self,
        token: str = "patTEST",
        base_id: str = "appTEST",
        *,
        rate_limit: int | None = 5,
        penalty_seconds: float = 30.0,
        base_name: str | None = None,
        seed: int | None = None,
        scopes: tuple[str, ...] = SCOPES,
        max_body_bytes: int | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.scopes = scopes
        self.max_body_bytes = max_body_bytes
        self.base_id = base_id
        self.rate_limit = rate_limit
        self.penalty_seconds = penalty_seconds
        self._random = random.Random(seed)
        self._bases: dict[str, _Base] = {}
        self._iterators: dict[str, _Iterator] = {}
        self.add_base(base_id, base_name)

    # -- direct state helpers (no log, no limits) ------------------------------------------

    def add_base(self, base_id: str, name: str | None = None) -> None:
        with self._lock:
            self._bases.setdefault(base_id, _Base(base_id, name or base_id))

    def create_table(
        self,
        name: str,
        fields: list[dict[str, Any]],
        *,
        base: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Create a table as the Meta API would, and return its JSON.

        Unlike the API, ``options.linkedTableId`` may name a table, this one included.
        """
        with self._lock:
            target = self._base(base)
            table_id = self._new_id("tbl")
            resolved = []
            for spec in fields:
                linked = (spec.get("options") or {}).get("linkedTableId")
                if spec.get("type") == "multipleRecordLinks" and linked is not None:
                    other = target.table(linked)
                    linked_id = table_id if linked == name else (other.id if other else linked)
                    spec = {**spec, "options": {**spec["options"], "linkedTableId": linked_id}}
                resolved.append(spec)
            body = {"name": name, "fields": resolved}
            if description:
                body["description"] = description
            return self._create_table(target, body, table_id)

    def table_id(self, table: str, *, base: str | None = None) -> str:
        with self._lock:
            return self._table(self._base(base), table).id

    def field_id(self, table: str, field_name: str, *, base: str | None = None) -> str:
        with self._lock:
            found = self._table(self._base(base), table).field(field_name)
            if found is None:
                raise KeyError(field_name)
            return found.id

    def schema(self, *, base: str | None = None) -> dict[str, Any]:
        """The base schema, as ``GET /v0/meta/bases/{base}/tables`` returns it."""
        with self._lock:
            return {"tables": [t.json() for t in self._base(base).tables.values()]}

    def records(self, table: str, *, base: str | None = None) -> list[dict[str, Any]]:
        """Every record of a table: ``{"id", "createdTime", "fields"}``, fields by name."""
        with self._lock:
            target = self._table(self._base(base), table)
            return [self._render(target, r) for r in target.records.values()]

    def insert(
        self,
        table: str,
        fields: dict[str, Any],
        *,
        base: str | None = None,
        typecast: bool = False,
    ) -> str:
        """Add a record (as a staff member would in the UI); return its id."""
        with self._lock:
            target_base = self._base(base)
            target = self._table(target_base, table)
            effects = _Effects()
            cells = self._prepare_cells(target_base, target, fields, typecast, effects)
            txn = _Transaction()
            self._commit_effects(target_base, effects, txn)
            record = self._create_record(target_base, target, cells, txn)
            self._publish(target_base, txn, "client")
            return record.id

    def insert_many(
        self, table: str, rows: list[dict[str, Any]], *, base: str | None = None
    ) -> list[str]:
        """Add many records at once, as a bulk import would; return their ids in order.

        Cells are checked as ``insert`` checks them (no typecast: links are record ids), and
        linked records get the new ids in their inverse fields, but no webhook payload is made.
        Built for loading hundreds of thousands of records (benchmarks): the inverse links are
        appended in place rather than copied for each record.
        """
        with self._lock:
            target_base = self._base(base)
            target = self._table(target_base, table)
            by_name = {f.name: f for f in target.fields}
            ids = []
            for fields in rows:
                effects = _Effects()
                cells: dict[str, Any] = {}
                for name, value in fields.items():
                    cell_field = by_name.get(name)
                    if cell_field is None:
                        raise _unknown_field(name)
                    cells[cell_field.id] = self._coerce(
                        target_base, cell_field, value, False, effects
                    )
                record = _Record(self._new_id("rec"), _iso(_now()))
                target.records[record.id] = record
                for field_id, value in cells.items():
                    if value is None:
                        continue
                    record.cells[field_id] = value
                    cell_field = target.field(field_id)
                    assert cell_field is not None
                    inverse_id = (cell_field.options or {}).get("inverseLinkFieldId")
                    if cell_field.type != "multipleRecordLinks" or inverse_id is None:
                        continue
                    other = target_base.tables[cell_field.options["linkedTableId"]]  # type: ignore[index]
                    for linked_id in value:
                        other.records[linked_id].cells.setdefault(inverse_id, []).append(record.id)
                ids.append(record.id)
            target.merge_indexes.clear()  # built again from the records on the next upsert
            return ids

    def change_record(
        self,
        table: str,
        record_id: str,
        fields: dict[str, Any],
        *,
        base: str | None = None,
        typecast: bool = False,
    ) -> None:
        """Change cells of a record as a staff member would (a webhook payload follows)."""
        with self._lock:
            target_base = self._base(base)
            target = self._table(target_base, table)
            record = target.records[record_id]
            effects = _Effects()
            cells = self._prepare_cells(target_base, target, fields, typecast, effects)
            txn = _Transaction()
            self._commit_effects(target_base, effects, txn)
            self._update_record(target_base, target, record, cells, False, txn)
            self._publish(target_base, txn, "client")

    def delete(self, table: str, record_id: str, *, base: str | None = None) -> None:
        """Delete a record as a staff member would."""
        with self._lock:
            target_base = self._base(base)
            target = self._table(target_base, table)
            txn = _Transaction()
            self._delete_record(target_base, target, record_id, txn)
            self._publish(target_base, txn, "client")

    def expire_offsets(self) -> None:
        """Forget every list iterator, as Airtable does after a while: the next page asked for
        gets 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE."""
        with self._lock:
            self._iterators.clear()

    def reset_rate_limit(self, *, base: str | None = None) -> None:
        """Lift a base's 429 penalty and forget its recent requests."""
        with self._lock:
            target = self._base(base)
            target.window.clear()
            target.penalty_until = 0.0

    # -- faults ----------------------------------------------------------------------------

    def inject(
        self,
        status: int = 503,
        count: int = 1,
        when: Callable[[ApiRequest], bool] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` (nothing is applied)."""
        default = FAULT_BODIES.get(
            status, {"error": {"type": "INJECTED_FAULT", "message": "Injected"}}
        )
        with self._lock:
            self._faults.append(
                Fault("status", count, when, status=status, body=default if body is None else body)
            )

    def exceed_monthly_quota(self, after: int = 0) -> None:
        """The workspace's monthly API calls run out after ``after`` more requests: every
        request after those is answered 429 ``PUBLIC_API_BILLING_LIMIT_EXCEEDED`` (nothing is
        applied) until ``clear_faults``."""
        served = itertools.count()

        def spent(request: ApiRequest) -> bool:
            return next(served) >= after

        self.inject(429, count=sys.maxsize, when=spent, body=QUOTA_EXCEEDED_BODY)

    def writes(self) -> int:
        """How many logged requests could change the base: any but GET and listRecords."""
        with self._lock:
            return sum(1 for r in self._log if r.method != "GET" and r.operation != "list")

    # -- counting --------------------------------------------------------------------------

    def count(
        self,
        method: str | None = None,
        table: str | None = None,
        status: int | None = None,
        operation: str | None = None,
        base: str | None = None,
    ) -> int:
        """How many logged requests match every criterion given."""
        return self._count_matching(
            method=method and method.upper(),
            table=table,
            status=status,
            operation=operation,
            base=base,
        )

    # ---- lookups -------------------------------------------------------------------------

    def _base(self, base_id: str | None) -> _Base:
        return self._bases[base_id or self.base_id]

    @staticmethod
    def _table(base: _Base, name_or_id: str) -> _Table:
        table = base.table(name_or_id)
        if table is None:
            raise KeyError(f"no table {name_or_id!r} in {base.id}")
        return table

    def _webhook(self, base: _Base, webhook_id: str) -> _Webhook:
        return base.webhooks[webhook_id]

    def _new_id(self, prefix: str) -> str:
        alphabet = string.ascii_letters + string.digits
        return prefix + "".join(self._random.choice(alphabet) for _ in range(14))
