"""How the Airtable emulator checks, typecasts and stores cell values, and keeps links two-sided."""

from __future__ import annotations

import copy
import re
from datetime import UTC, date, datetime
from typing import Any

from emulators.airtable.errors import _bad_value, _error, _unknown_field
from emulators.airtable.model import (
    CHOICE_COLORS,
    COMPUTED_TYPES,
    NUMBER_TYPES,
    RECORD_ID,
    TEXT_TYPES,
    _Base,
    _Effects,
    _Field,
    _iso,
    _now,
    _Record,
    _Table,
    _Transaction,
)


class Cells:
    """Cells: values checked and typecast against their field, linked records kept in step on both
    sides, records created, changed and deleted inside a transaction.

    Mixed into ``AirtableEmulator``, whose lookups (``_base``, ``_new_id``…) it uses.
    """

    def _prepare_cells(
        self,
        base: _Base,
        table: _Table,
        fields: dict[str, Any],
        typecast: bool,
        effects: _Effects,
    ) -> dict[str, Any]:
        cells: dict[str, Any] = {}
        for key in fields:
            if table.field(key) is None:
                raise _unknown_field(key)
        for key, value in fields.items():
            cell_field = table.field(key)
            assert cell_field is not None
            cells[cell_field.id] = self._coerce(base, cell_field, value, typecast, effects)
        return cells

    def _coerce(
        self, base: _Base, cell_field: _Field, value: Any, typecast: bool, effects: _Effects
    ) -> Any:
        kind = cell_field.type
        if kind in COMPUTED_TYPES:
            raise _error(
                422,
                "INVALID_VALUE_FOR_COLUMN",
                f'Field "{cell_field.name}" cannot accept a value because the field is computed',
            )
        if value is None:
            return None
        if kind in TEXT_TYPES:
            return self._text(cell_field, value, typecast)
        if kind in NUMBER_TYPES:
            return self._number(cell_field, value, typecast)
        if kind == "checkbox":
            if isinstance(value, bool):
                return value or None
            if typecast and isinstance(value, str | int | float):
                text = str(value).strip().lower()
                return text in ("true", "1", "checked", "yes", "oui", "x", "on") or None
            raise _bad_value(cell_field.name)
        if kind == "date":
            return self._date(cell_field, value, typecast)
        if kind == "dateTime":
            if isinstance(value, str):
                try:
                    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError:
                    moment = None
                if moment is not None:
                    return _iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
            raise _bad_value(cell_field.name)
        if kind == "singleSelect":
            if not isinstance(value, str):
                raise _bad_value(cell_field.name)
            return self._option(cell_field, value, typecast, effects) if value else None
        if kind == "multipleSelects":
            if not isinstance(value, list) or any(not isinstance(v, str) for v in value):
                raise _bad_value(cell_field.name)
            names = list(
                dict.fromkeys(self._option(cell_field, v, typecast, effects) for v in value)
            )
            return names or None
        if kind == "multipleRecordLinks":
            return self._links(base, cell_field, value, typecast, effects)
        return copy.deepcopy(value)

    @staticmethod
    def _text(cell_field: _Field, value: Any, typecast: bool) -> str | None:
        if isinstance(value, str):
            return value or None
        if typecast and isinstance(value, int | float | bool):
            return str(value)
        raise _bad_value(cell_field.name)

    @staticmethod
    def _number(cell_field: _Field, value: Any, typecast: bool) -> int | float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
        if typecast and isinstance(value, str):
            try:
                number = float(value.replace(",", ".").replace(" ", ""))
            except ValueError:
                pass
            else:
                return int(number) if number.is_integer() else number
        raise _bad_value(cell_field.name)

    @staticmethod
    def _date(cell_field: _Field, value: Any, typecast: bool) -> str:
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return date.fromisoformat(value).isoformat()
            except ValueError:
                pass
        if typecast and isinstance(value, str):
            for pattern in ("%Y-%m-%dT%H:%M:%S.%fZ", "%Y-%m-%dT%H:%M:%SZ", "%d/%m/%Y"):
                try:
                    return datetime.strptime(value, pattern).date().isoformat()
                except ValueError:
                    continue
        raise _bad_value(cell_field.name)

    def _option(self, cell_field: _Field, name: str, typecast: bool, effects: _Effects) -> str:
        if cell_field.choice(name) is not None:
            return name
        if typecast:
            effects.choices.append((cell_field, name))
            return name
        # Airtable doubles the quotes around the option in this message.
        raise _error(
            422,
            "INVALID_MULTIPLE_CHOICE_OPTIONS",
            f'Insufficient permissions to create new select option ""{name}""',
        )

    def _links(
        self, base: _Base, cell_field: _Field, value: Any, typecast: bool, effects: _Effects
    ) -> list[str] | None:
        if typecast and isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise _bad_value(cell_field.name)
        linked = base.tables[cell_field.options["linkedTableId"]]  # type: ignore[index]
        ids: list[str] = []
        for item in value:
            if isinstance(item, str) and item in linked.records:
                ids.append(item)
            elif typecast and isinstance(item, str):
                ids.append(self._link_by_name(base, linked, item, effects))
            elif isinstance(item, str) and RECORD_ID.match(item):
                raise _error(422, "ROW_DOES_NOT_EXIST", f"Record ID {item} does not exist")
            else:
                raise _error(
                    422, "INVALID_VALUE_FOR_COLUMN", f'Value "{item}" is not a valid record ID.'
                )
        return list(dict.fromkeys(ids)) or None

    def _link_by_name(self, base: _Base, linked: _Table, name: str, effects: _Effects) -> str:
        for record in linked.records.values():
            if self._primary_text(base, linked, record) == name:
                return record.id
        return effects.new_links.setdefault((linked.id, name), self._new_id("rec"))

    def _commit_effects(self, base: _Base, effects: _Effects, txn: _Transaction) -> None:
        for cell_field, name in effects.choices:
            if cell_field.choice(name) is None:
                choices = cell_field.options.setdefault("choices", [])  # type: ignore[union-attr]
                color = CHOICE_COLORS[len(choices) % len(CHOICE_COLORS)]
                choices.append({"id": self._new_id("sel"), "name": name, "color": color})
        for (table_id, name), record_id in effects.new_links.items():
            table = base.tables[table_id]
            self._create_record(base, table, {table.primary.id: name}, txn, record_id)

    def _create_record(
        self,
        base: _Base,
        table: _Table,
        cells: dict[str, Any],
        txn: _Transaction,
        record_id: str | None = None,
    ) -> _Record:
        record = _Record(record_id or self._new_id("rec"), _iso(_now()))
        table.records[record.id] = record
        txn.create(table, record)
        for field_id, value in cells.items():
            self._set_cell(base, table, record, field_id, value, txn)
        return record

    def _update_record(
        self,
        base: _Base,
        table: _Table,
        record: _Record,
        cells: dict[str, Any],
        replace: bool,
        txn: _Transaction,
    ) -> None:
        if replace:
            for cell_field in table.fields:
                if cell_field.id not in cells and cell_field.type not in COMPUTED_TYPES:
                    self._set_cell(base, table, record, cell_field.id, None, txn)
        for field_id, value in cells.items():
            self._set_cell(base, table, record, field_id, value, txn)

    def _set_cell(
        self,
        base: _Base,
        table: _Table,
        record: _Record,
        field_id: str,
        value: Any,
        txn: _Transaction,
    ) -> None:
        old = record.cells.get(field_id)
        if old == value:
            return
        txn.touch(table, record, field_id)
        touched = self._unindex(table, record, field_id) if table.merge_indexes else []
        if value is None:
            record.cells.pop(field_id, None)
        else:
            record.cells[field_id] = value
        if touched:
            self._reindex(table, record, touched)
        cell_field = table.field(field_id)
        assert cell_field is not None
        inverse_id = (cell_field.options or {}).get("inverseLinkFieldId")
        if cell_field.type != "multipleRecordLinks" or inverse_id is None:
            return
        other = base.tables[cell_field.options["linkedTableId"]]  # type: ignore[index]
        before, after = old or [], value or []
        for linked_id in before:
            linked = other.records.get(linked_id)
            if linked_id not in after and linked is not None:
                txn.touch(other, linked, inverse_id)
                remaining = [i for i in linked.cells.get(inverse_id, []) if i != record.id]
                linked.cells[inverse_id] = remaining
                if not remaining:
                    linked.cells.pop(inverse_id)
        for linked_id in after:
            linked = other.records[linked_id]
            if linked_id not in before and record.id not in linked.cells.get(inverse_id, []):
                txn.touch(other, linked, inverse_id)
                linked.cells[inverse_id] = [*linked.cells.get(inverse_id, []), record.id]

    def _delete_record(self, base: _Base, table: _Table, record_id: str, txn: _Transaction) -> None:
        for other in base.tables.values():
            for link in other.fields:
                if link.type != "multipleRecordLinks":
                    continue
                if (link.options or {}).get("linkedTableId") != table.id:
                    continue
                for record in other.records.values():
                    if record_id in record.cells.get(link.id, []):
                        txn.touch(other, record, link.id)
                        remaining = [i for i in record.cells[link.id] if i != record_id]
                        record.cells[link.id] = remaining
                        if not remaining:
                            record.cells.pop(link.id)
        self._unindex(table, table.records[record_id])
        del table.records[record_id]
        txn.destroy(table, record_id)
