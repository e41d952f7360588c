"""The Airtable emulator's record reads: listing with its parameters, and one record."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import Any

from emulators.airtable.errors import _error, _unknown_field
from emulators.airtable.formula import FormulaError, parse, referenced_fields
from emulators.airtable.formula_eval import evaluate, truthy
from emulators.airtable.model import (
    OFFSET,
    _Base,
    _empty,
    _Field,
    _Iterator,
    _ListParams,
    _Record,
    _Route,
    _Table,
)
from emulators.airtable.params import _bool_param, _list_params_from_body, _list_params_from_query


class RecordReads:
    """Reading records: list (pages, offsets, ``filterByFormula``, sorts, ``fields[]``) and get.

    Mixed into ``AirtableEmulator``, whose lookups (``_base``, ``_new_id``…) it uses.
    """

    def _op_list(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        table = self._api_table(base, route)
        if body is None:
            params = _list_params_from_query(query)
        else:
            params = _list_params_from_body(body, query)
        wanted = self._output_fields(table, params)
        if params.view is not None and params.view not in ("Grid view", table.view_id):
            raise _error(422, "VIEW_NAME_NOT_FOUND", f"View {params.view} not found")
        if params.offset is not None:
            iterator, ids, start = self._resume(table, params.offset)
        else:
            iterator, ids, start = None, self._select(base, table, params), 0
        page = ids[start : start + params.page_size]
        records = [
            self._render(table, table.records[i], params.by_field_id, wanted)
            for i in page
            if i in table.records
        ]
        answer: dict[str, Any] = {"records": records}
        if start + params.page_size < len(ids):
            iterator = iterator or self._remember(table, ids)
            answer["offset"] = f"{iterator}/{ids[start + params.page_size]}"
        return 200, answer

    def _output_fields(self, table: _Table, params: _ListParams) -> list[_Field] | None:
        if params.fields is None:
            return None
        wanted = []
        for name in params.fields:
            found = table.field(name)
            if found is None:
                raise _unknown_field(name)
            wanted.append(found)
        return wanted

    def _select(self, base: _Base, table: _Table, params: _ListParams) -> list[str]:
        records = list(table.records.values())
        if params.formula:
            records = self._filter(base, table, records, params.formula)
        for name, descending in reversed(params.sort):
            sort_field = table.field(name)
            if sort_field is None:
                raise _unknown_field(name)
            records.sort(key=lambda r, f=sort_field: self._sort_key(base, f, r), reverse=descending)
        ids = [r.id for r in records]
        return ids[: params.max_records] if params.max_records is not None else ids

    def _filter(
        self, base: _Base, table: _Table, records: list[_Record], formula: str
    ) -> list[_Record]:
        prefix = "The formula for filtering records is invalid: "
        try:
            tree = parse(formula)
        except FormulaError as error:
            raise _error(
                422,
                "INVALID_FILTER_BY_FORMULA",
                prefix + "Invalid formula. Please check your formula text.",
            ) from error
        unknown = [n for n in referenced_fields(tree) if table.field(n) is None]
        if unknown:
            raise _error(
                422,
                "INVALID_FILTER_BY_FORMULA",
                prefix + "Unknown field names: " + ", ".join(unknown),
            )
        by_name = {f.name: f for f in table.fields}
        kept = []
        for record in records:

            def lookup(name: str, record: _Record = record) -> Any:
                return self._formula_value(base, by_name.get(name) or table.field(name), record)

            if truthy(evaluate(tree, lookup, record.id)):
                kept.append(record)
        return kept

    def _formula_value(self, base: _Base, cell_field: _Field | None, record: _Record) -> Any:
        if cell_field is None:
            return None
        value = record.cells.get(cell_field.id)
        if value is None:
            return None
        kind = cell_field.type
        if kind == "multipleRecordLinks":
            linked = base.tables[cell_field.options["linkedTableId"]]  # type: ignore[index]
            return tuple(
                self._primary_text(base, linked, linked.records[i])
                for i in value
                if i in linked.records
            )
        if kind == "multipleSelects":
            return tuple(value)
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "dateTime":
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, list):
            return tuple(str(v.get("filename", v) if isinstance(v, dict) else v) for v in value)
        if isinstance(value, dict):
            return value.get("name") or value.get("text") or value.get("email")
        return value

    def _primary_text(self, base: _Base, table: _Table, record: _Record) -> str:
        value = self._formula_value(base, table.primary, record)
        if value is None:
            return ""
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        if isinstance(value, tuple):
            return ", ".join(value)
        return value.isoformat() if isinstance(value, date) else str(value)

    def _sort_key(self, base: _Base, sort_field: _Field, record: _Record) -> tuple[Any, ...]:
        value = self._formula_value(base, sort_field, record)
        if _empty(value) or value == ():
            return (0,)
        if sort_field.type in ("singleSelect",):
            choices = [c["name"] for c in (sort_field.options or {}).get("choices", [])]
            return (1, choices.index(value) if value in choices else len(choices))
        if isinstance(value, bool | int | float):
            return (1, float(value))
        if isinstance(value, date):
            return (1, value.isoformat())
        if isinstance(value, tuple):
            return (1, ", ".join(value).casefold())
        return (1, str(value).casefold())

    def _remember(self, table: _Table, ids: list[str]) -> str:
        """Keep a listing's record ids for its next pages; return the iterator id."""
        key = self._new_id("itr")
        self._iterators[key] = _Iterator(table.id, ids)
        while len(self._iterators) > 1000:
            self._iterators.pop(next(iter(self._iterators)))
        return key

    def _resume(self, table: _Table, offset: str) -> tuple[str, list[str], int]:
        match = OFFSET.match(offset)
        if match is None:
            raise _error(422, "INVALID_OFFSET_VALUE", f"The value of offset {offset} is invalid")
        iterator = self._iterators.get(match.group(1))
        if iterator is None or iterator.table_id != table.id or match.group(2) not in iterator.ids:
            raise _error(422, "LIST_RECORDS_ITERATOR_NOT_AVAILABLE")
        return match.group(1), iterator.ids, iterator.ids.index(match.group(2))

    def _op_get(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        table = self._api_table(base, route)
        record = self._api_record(table, route.record or "")
        by_id = query.get("returnFieldsByFieldId", ["false"])[0]
        return 200, self._render(table, record, _bool_param(by_id, "returnFieldsByFieldId"))

    def _render(
        self,
        table: _Table,
        record: _Record,
        by_field_id: bool = False,
        only: list[_Field] | None = None,
    ) -> dict[str, Any]:
        cells = {}
        for cell_field in only if only is not None else table.fields:
            value = record.cells.get(cell_field.id)
            if not _empty(value):
                cells[cell_field.id if by_field_id else cell_field.name] = copy.deepcopy(value)
        return {"id": record.id, "createdTime": record.created_time, "fields": cells}
