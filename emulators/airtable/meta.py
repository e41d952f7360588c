"""The Airtable emulator's Meta API: schema, tables and fields."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from emulators.airtable.errors import ApiError, _error, _invalid_request
from emulators.airtable.model import (
    CHOICE_COLORS,
    DATE_FORMATS,
    NUMBER_TYPES,
    OTHER_TYPES,
    REQUIRED_OPTIONS,
    TEXT_TYPES,
    _Base,
    _Field,
    _Route,
    _Table,
)


class Meta:
    """The Meta API: base schema, create a table, create a field (with its options checked).

    Mixed into ``AirtableEmulator``, whose lookups (``_base``, ``_new_id``…) it uses.
    """

    def _op_schema(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        include = query.get("include", []) + query.get("include[]", [])
        if set(query) - {"include", "include[]"} or set(include) - {"visibleFieldIds"}:
            raise _invalid_request("include takes only visibleFieldIds")
        visible = "visibleFieldIds" in include
        return 200, {"tables": [t.json(visible) for t in base.tables.values()]}

    def _op_create_table(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        return 200, self._create_table(base, body, self._new_id("tbl"))

    def _create_table(self, base: _Base, body: Any, table_id: str) -> dict[str, Any]:
        if not isinstance(body, dict) or set(body) - {"name", "description", "fields"}:
            raise _invalid_request("a table takes name, description and fields")
        name, specs = body.get("name"), body.get("fields")
        if not isinstance(name, str) or not name.strip():
            raise _invalid_request("name must be a non-empty string")
        if not isinstance(specs, list) or not specs:
            raise _invalid_request("fields must be a non-empty list")
        if any(t.name.casefold() == name.casefold() for t in base.tables.values()):
            raise _error(422, "DUPLICATE_TABLE_NAME", f'A table named "{name}" already exists')
        table = _Table(table_id, name, body.get("description"), [], self._new_id("viw"))
        inverses: list[tuple[_Table, _Field]] = []
        for spec in specs:
            new_field, inverse = self._build_field(base, table, spec)
            table.fields.append(new_field)
            if inverse is not None:
                inverses.append(inverse)
        base.tables[table.id] = table
        for other, inverse_field in inverses:
            other.fields.append(inverse_field)
        return table.json()

    def _op_create_field(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        table = self._api_table(base, route)
        new_field, inverse = self._build_field(base, table, body)
        table.fields.append(new_field)
        if inverse is not None:
            inverse[0].fields.append(inverse[1])
        return 200, new_field.json()

    def _build_field(
        self, base: _Base, table: _Table, spec: Any
    ) -> tuple[_Field, tuple[_Table, _Field] | None]:
        if not isinstance(spec, dict) or set(spec) - {"name", "type", "description", "options"}:
            raise _invalid_request("a field takes name, type, description and options")
        name, kind = spec.get("name"), spec.get("type")
        if not isinstance(name, str) or not name.strip() or table.has_field_name(name):
            raise _error(
                422,
                "DUPLICATE_OR_EMPTY_FIELD_NAME",
                f'Field name "{name}" is empty or already exists in table {table.name}',
            )
        if not isinstance(kind, str) or kind not in TEXT_TYPES | NUMBER_TYPES | OTHER_TYPES:
            raise _error(
                422, "UNSUPPORTED_FIELD_TYPE_FOR_CREATE", f"Field type {kind} cannot be created"
            )
        new_field = _Field(self._new_id("fld"), name, kind, None, spec.get("description"))
        new_field.options = self._field_options(base, table, new_field, spec)
        inverse = None
        if kind == "multipleRecordLinks":
            inverse = self._inverse_link(base, table, new_field)
        return new_field, inverse

    def _field_options(
        self, base: _Base, table: _Table, new_field: _Field, spec: dict[str, Any]
    ) -> dict[str, Any] | None:
        kind, given = new_field.type, spec.get("options")

        def invalid(reason: str) -> ApiError:
            return _error(
                422,
                "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
                f"Invalid options for {table.name}.{new_field.name}: {reason}",
            )

        if kind in TEXT_TYPES:
            if "options" in spec:
                raise invalid(f"options is not included in the {kind} schema")
            return None
        required = REQUIRED_OPTIONS.get(kind, ())
        if required and not isinstance(given, dict):
            raise invalid("options is missing")
        missing = [key for key in required if key not in given]
        if missing:
            raise invalid(f"options.{missing[0]} is missing")
        options = copy.deepcopy(given) if isinstance(given, dict) else None
        if kind in ("singleSelect", "multipleSelects"):
            choices = options["choices"]  # type: ignore[index]
            if not isinstance(choices, list) or any(
                not isinstance(c, dict) or not isinstance(c.get("name"), str) for c in choices
            ):
                raise invalid("options.choices must be a list of {name}")
            options["choices"] = [  # type: ignore[index]
                {
                    "id": self._new_id("sel"),
                    "name": c["name"],
                    "color": c.get("color", CHOICE_COLORS[i % len(CHOICE_COLORS)]),
                }
                for i, c in enumerate(choices)
            ]
        elif kind in ("date", "dateTime"):
            options["dateFormat"] = self._date_format(options["dateFormat"], invalid)  # type: ignore[index]
        elif kind in NUMBER_TYPES and "precision" in required:
            precision = options["precision"]  # type: ignore[index]
            if (
                isinstance(precision, bool)
                or not isinstance(precision, int)
                or not 0 <= precision <= 8
            ):
                raise invalid("options.precision must be an integer from 0 to 8")
        elif kind == "multipleRecordLinks":
            if set(options) != {"linkedTableId"}:  # type: ignore[arg-type]
                raise invalid("only options.linkedTableId may be given")
            linked = options["linkedTableId"]  # type: ignore[index]
            if linked != table.id and linked not in base.tables:
                raise invalid(f"table {linked} does not exist")
            options.update({"isReversed": False, "prefersSingleRecordLink": False})  # type: ignore[union-attr]
        return options

    @staticmethod
    def _date_format(given: Any, invalid: Callable[[str], ApiError]) -> dict[str, str]:
        if not isinstance(given, dict):
            raise invalid("options.dateFormat must be an object")
        name, fmt = given.get("name"), given.get("format")
        if name is None and fmt is not None:
            name = next((n for n, f in DATE_FORMATS.items() if f == fmt), None)
        if name not in DATE_FORMATS or (fmt is not None and fmt != DATE_FORMATS[name]):
            raise invalid("options.dateFormat is not a known format")
        return {"name": name, "format": DATE_FORMATS[name]}

    def _inverse_link(
        self, base: _Base, table: _Table, link: _Field
    ) -> tuple[_Table, _Field] | None:
        """The field Airtable adds to the linked table (none for a link to the same table)."""
        linked_id = link.options["linkedTableId"]  # type: ignore[index]
        if linked_id == table.id:
            return None
        other = base.tables[linked_id]
        name, number = table.name, 1
        while other.has_field_name(name):
            number += 1
            name = f"{table.name} {number}"
        inverse = _Field(
            self._new_id("fld"),
            name,
            "multipleRecordLinks",
            {
                "linkedTableId": table.id,
                "isReversed": False,
                "prefersSingleRecordLink": False,
                "inverseLinkFieldId": link.id,
            },
        )
        link.options["inverseLinkFieldId"] = inverse.id  # type: ignore[index]
        return other, inverse
