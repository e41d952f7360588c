"""The Airtable emulator's record writes, at most 10 records a request, and the upserts' merge
indexes."""

from __future__ import annotations

from typing import Any

from emulators.airtable.errors import (
    CREATE_RECORDS_MESSAGE,
    DELETE_RECORDS_MESSAGE,
    UPDATE_RECORDS_MESSAGE,
    _error,
    _invalid_request,
    _no_model,
    _not_found,
    _unknown_field,
)
from emulators.airtable.model import (
    COMPUTED_TYPES,
    MAX_RECORDS_PER_REQUEST,
    RECORD_ID,
    _Base,
    _Effects,
    _Field,
    _Record,
    _Route,
    _Table,
    _Transaction,
)
from emulators.airtable.params import _write_options

_UNHASHABLE = object()


def _merge_key(cells: dict[str, Any], field_ids: tuple[str, ...]) -> Any:
    """The values of ``field_ids`` as a dict key, equal when ``==`` says the values are;
    ``None`` when one is empty (such a record matches nothing), ``_UNHASHABLE`` when a value
    cannot be a key (then upserts scan the records)."""
    values = []
    for field_id in field_ids:
        value = cells.get(field_id)
        if value is None:
            return None
        values.append(tuple(value) if isinstance(value, list) else value)
    key = tuple(values)
    try:
        hash(key)
    except TypeError:
        return _UNHASHABLE
    return key


class RecordWrites:
    """Writing records: create, update, replace, upsert (with merge indexes) and delete.

    Mixed into ``AirtableEmulator``, whose lookups (``_base``, ``_new_id``…) it uses.
    """

    def _op_create(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        table = self._api_table(base, route)
        options = _write_options(body, {"records", "fields"})
        single = "fields" in body and "records" not in body
        items = [{"fields": body["fields"]}] if single else body.get("records")
        if (
            ("fields" in body) == ("records" in body)
            or not isinstance(items, list)
            or not 1 <= len(items) <= MAX_RECORDS_PER_REQUEST
            or any(not isinstance(i, dict) or set(i) != {"fields"} for i in items)
            or any(not isinstance(i["fields"], dict) for i in items)
        ):
            raise _error(422, "INVALID_RECORDS", CREATE_RECORDS_MESSAGE)
        effects = _Effects()
        prepared = [
            self._prepare_cells(base, table, i["fields"], options["typecast"], effects)
            for i in items
        ]
        txn = _Transaction()
        self._commit_effects(base, effects, txn)
        created = [self._create_record(base, table, cells, txn) for cells in prepared]
        self._publish(base, txn, "publicApi")
        rendered = [self._render(table, r, options["by_field_id"]) for r in created]
        return 200, rendered[0] if single else {"records": rendered}

    def _op_update(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        table = self._api_table(base, route)
        options = _write_options(body, {"records", "performUpsert"})
        items = body.get("records")
        upsert = body.get("performUpsert")
        if (
            not isinstance(items, list)
            or not 1 <= len(items) <= MAX_RECORDS_PER_REQUEST
            or any(not isinstance(i, dict) or not set(i) <= {"id", "fields"} for i in items)
            or any(not isinstance(i.get("fields"), dict) for i in items)
            or any("id" in i and not RECORD_ID.match(str(i["id"])) for i in items)
            or (upsert is None and any("id" not in i for i in items))
        ):
            raise _error(422, "INVALID_RECORDS", UPDATE_RECORDS_MESSAGE)
        merge_on = self._merge_fields(table, upsert) if upsert is not None else []
        effects = _Effects()
        plan: list[tuple[_Record | None, dict[str, Any]]] = []
        for item in items:
            cells = self._prepare_cells(base, table, item["fields"], options["typecast"], effects)
            if "id" in item:
                plan.append((self._existing(table, item["id"]), cells))
            else:
                plan.append((self._match(table, merge_on, cells), cells))
        txn = _Transaction()
        self._commit_effects(base, effects, txn)
        results: list[_Record] = []
        created_ids: list[str] = []
        updated_ids: list[str] = []
        for record, cells in plan:
            if record is None:
                record = self._create_record(base, table, cells, txn)
                created_ids.append(record.id)
            else:
                self._update_record(base, table, record, cells, route.replace, txn)
                updated_ids.append(record.id)
            results.append(record)
        self._publish(base, txn, "publicApi")
        answer: dict[str, Any] = {
            "records": [self._render(table, r, options["by_field_id"]) for r in results]
        }
        if upsert is not None:
            answer = {"createdRecords": created_ids, "updatedRecords": updated_ids, **answer}
        return 200, answer

    def _merge_fields(self, table: _Table, upsert: Any) -> list[_Field]:
        names = upsert.get("fieldsToMergeOn") if isinstance(upsert, dict) else None
        if not isinstance(names, list) or not 1 <= len(names) <= 3:
            raise _invalid_request("performUpsert.fieldsToMergeOn takes 1 to 3 field names")
        merge_on = []
        for name in names:
            found = table.field(str(name))
            if found is None:
                raise _unknown_field(str(name))
            if found.type in COMPUTED_TYPES or found.type == "multipleRecordLinks":
                raise _invalid_request(f"{found.name} cannot be used in fieldsToMergeOn")
            merge_on.append(found)
        return merge_on

    def _match(
        self, table: _Table, merge_on: list[_Field], cells: dict[str, Any]
    ) -> _Record | None:
        if any(cells.get(f.id) is None for f in merge_on):
            raise _error(
                422,
                "INVALID_RECORDS",
                "Each record without an id must have a value for every field in fieldsToMergeOn",
            )
        field_ids = tuple(f.id for f in merge_on)
        index = self._merge_index(table, field_ids)
        key = _merge_key(cells, field_ids)
        if index is not None and key is not _UNHASHABLE:
            matches = [table.records[i] for i in index.get(key, [])]
        else:
            matches = [
                r
                for r in table.records.values()
                if all(r.cells.get(f.id) == cells[f.id] for f in merge_on)
            ]
        if len(matches) > 1:
            raise _error(
                422,
                "INVALID_RECORDS",
                "More than one existing record matches the fieldsToMergeOn values of a record "
                "in the request",
            )
        return matches[0] if matches else None

    @staticmethod
    def _merge_index(table: _Table, field_ids: tuple[str, ...]) -> dict[Any, list[str]] | None:
        """The records by their values of ``field_ids``, built on first use (an upsert on a
        table of 100,000 rows must not scan them all for each record it sends)."""
        if field_ids not in table.merge_indexes:
            index: dict[Any, list[str]] | None = {}
            for record in table.records.values():
                key = _merge_key(record.cells, field_ids)
                if key is _UNHASHABLE:
                    index = None
                    break
                if key is not None and index is not None:
                    index.setdefault(key, []).append(record.id)
            table.merge_indexes[field_ids] = index
        return table.merge_indexes[field_ids]

    @staticmethod
    def _unindex(table: _Table, record: _Record, field_id: str | None = None) -> list[Any]:
        """Take ``record`` out of the merge indexes (those on ``field_id``, or all); return
        the indexes' keys so that ``_reindex`` can put it back."""
        touched = []
        for field_ids, index in table.merge_indexes.items():
            if index is None or (field_id is not None and field_id not in field_ids):
                continue
            key = _merge_key(record.cells, field_ids)
            if key is not None and key is not _UNHASHABLE and record.id in index.get(key, []):
                index[key].remove(record.id)
                if not index[key]:
                    del index[key]
            touched.append(field_ids)
        return touched

    @staticmethod
    def _reindex(table: _Table, record: _Record, touched: list[Any]) -> None:
        for field_ids in touched:
            index = table.merge_indexes.get(field_ids)
            if index is None:
                continue
            key = _merge_key(record.cells, field_ids)
            if key is _UNHASHABLE:
                table.merge_indexes[field_ids] = None
            elif key is not None:
                index.setdefault(key, []).append(record.id)

    _op_replace = _op_upsert = _op_update

    def _op_update_one(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        table = self._api_table(base, route)
        record = self._api_record(table, route.record or "")
        options = _write_options(body, {"fields"})
        if not isinstance(body.get("fields"), dict):
            raise _invalid_request("fields must be an object")
        effects = _Effects()
        cells = self._prepare_cells(base, table, body["fields"], options["typecast"], effects)
        txn = _Transaction()
        self._commit_effects(base, effects, txn)
        self._update_record(base, table, record, cells, route.replace, txn)
        self._publish(base, txn, "publicApi")
        return 200, self._render(table, record, options["by_field_id"])

    _op_replace_one = _op_update_one

    def _op_delete(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        table = self._api_table(base, route)
        ids = query.get("records[]", []) + query.get("records", [])
        if not 1 <= len(ids) <= MAX_RECORDS_PER_REQUEST or any(not RECORD_ID.match(i) for i in ids):
            raise _error(422, "INVALID_RECORDS", DELETE_RECORDS_MESSAGE)
        for record_id in ids:
            self._existing(table, record_id)
        txn = _Transaction()
        for record_id in ids:
            self._delete_record(base, table, record_id, txn)
        self._publish(base, txn, "publicApi")
        return 200, {"records": [{"id": i, "deleted": True} for i in ids]}

    def _op_delete_one(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        table = self._api_table(base, route)
        record = self._api_record(table, route.record or "")
        txn = _Transaction()
        self._delete_record(base, table, record.id, txn)
        self._publish(base, txn, "publicApi")
        return 200, {"id": record.id, "deleted": True}

    def _existing(self, table: _Table, record_id: str) -> _Record:
        record = table.records.get(record_id)
        if record is None:
            raise _error(
                422, "ROW_DOES_NOT_EXIST", f"Record ID {record_id} does not exist in this table"
            )
        return record

    def _api_table(self, base: _Base, route: _Route) -> _Table:
        table = base.table(route.table or "")
        if table is None:
            raise _no_model()
        return table

    def _api_record(self, table: _Table, record_id: str) -> _Record:
        if not RECORD_ID.match(record_id):
            raise _not_found()
        record = table.records.get(record_id)
        if record is None:
            raise _error(404, "MODEL_ID_NOT_FOUND", "Record not found")
        return record
