"""The Notion emulator's data source query: filters, sorts and pagination."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any

from emulators.notion.errors import _invalid, _validation
from emulators.notion.helpers import (
    _body_id,
    _canonical_id,
    _compare_moments,
    _minute,
    _moment,
    _object_body,
    _page_size,
    _sortable_moment,
    _trash_flag,
)
from emulators.notion.model import (
    FILTER_KEYS,
    MAX_FILTER_DEPTH,
    MAX_PAGE_SIZE,
    READ_ONLY_TYPES,
    STRING_TYPES,
    TEXT_TYPES,
    _DataSource,
    _Page,
    _plain,
    _Property,
    _Route,
)


class Query:
    """Querying a data source: filters (compiled to predicates), sorts, pages and cursors.

    Mixed into ``NotionEmulator``, whose lookups (``_page``, ``_new_id``…) it uses.
    """

    def _op_query(self, route: _Route, query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
        source = self._data_source_or_404(route.id)
        body = _object_body(body)
        page_size = _page_size(body.get("page_size", MAX_PAGE_SIZE), "body.page_size")
        wanted = self._filter_properties(source, query)
        include_trash = _trash_flag(body, default=False)
        result_type = body.get("result_type", "page")
        if result_type not in ("page", "data_source"):
            raise _invalid("body.result_type", '"page" or "data_source"', result_type)
        pages = [
            p
            for p in self._pages.values()
            if p.data_source_id == source.id and (include_trash or not p.in_trash)
        ]
        if result_type == "data_source":
            pages = []
        if body.get("filter") is not None:
            test = self._compile_filter(source, body["filter"], "body.filter", 0)
            pages = [p for p in pages if test(p)]
        pages.sort(key=lambda p: p.seq, reverse=True)  # newest first (?) when nothing is asked
        sorts = body.get("sorts")
        if sorts:
            pages.sort(key=functools.cmp_to_key(self._comparator(source, sorts)))
        start = 0
        cursor = body.get("start_cursor")
        if cursor is not None:
            cursor_id = _canonical_id(cursor)
            ids = [p.id for p in pages]
            if cursor_id is None or cursor_id not in ids:
                raise _validation(f"start_cursor provided is invalid: {cursor}")
            start = ids.index(cursor_id)
        batch = pages[start : start + page_size]
        has_more = start + page_size < len(pages)
        return 200, {
            "object": "list",
            "results": [self._page_json(p, wanted=wanted) for p in batch],
            "next_cursor": pages[start + page_size].id if has_more else None,
            "has_more": has_more,
            "type": "page_or_data_source",
            "page_or_data_source": {},
        }

    def _filter_properties(
        self, source: _DataSource, query: dict[str, list[str]]
    ) -> set[str] | None:
        keys = query.get("filter_properties", []) + query.get("filter_properties[]", [])
        if not keys:
            return None
        wanted = set()
        for key in keys:
            prop = source.prop(key)
            if prop is None:
                raise _validation(f"Could not find property with name or id: {key}")
            wanted.add(prop.id)
        return wanted

    def _compile_filter(
        self, source: _DataSource, spec: Any, path: str, depth: int
    ) -> Callable[[_Page], bool]:
        if not isinstance(spec, dict):
            raise _invalid(path, "an object", spec)
        for key in ("or", "and"):
            if key in spec:
                if len(spec) != 1 or not isinstance(spec[key], list):
                    raise _invalid(f"{path}.{key}", "an array of filters", spec[key])
                if depth >= MAX_FILTER_DEPTH:
                    raise _validation(
                        f"body failed validation: {path}.{key} is nested too deeply; compound "
                        f"filters go {MAX_FILTER_DEPTH} levels deep at most."
                    )
                tests = [
                    self._compile_filter(source, item, f"{path}.{key}[{i}]", depth + 1)
                    for i, item in enumerate(spec[key])
                ]
                if key == "or":
                    return lambda page: any(t(page) for t in tests)
                return lambda page: all(t(page) for t in tests)
        if "timestamp" in spec:
            stamp = spec["timestamp"]
            if stamp not in ("created_time", "last_edited_time"):
                raise _invalid(f"{path}.timestamp", '"created_time" or "last_edited_time"', stamp)
            test = self._condition("date", spec.get(stamp), f"{path}.{stamp}")
            return lambda page: test(self._timestamp(page, stamp))
        if "property" not in spec:
            raise _invalid(path, "a property, timestamp, or compound filter", spec)
        prop = source.prop(spec["property"])
        if prop is None:
            raise _validation(f"Could not find property with name or id: {spec['property']}")
        keys = [k for k in spec if k not in ("property", "type")]
        if len(keys) != 1:
            raise _invalid(path, "a filter with one condition type", spec)
        key = keys[0]
        if key not in FILTER_KEYS[prop.type]:
            raise _validation(f"database property {prop.type} does not match filter {key}")
        family = {
            "title": "text",
            "rich_text": "text",
            "email": "text",
            "url": "text",
            "phone_number": "text",
            "created_time": "date",
            "last_edited_time": "date",
        }.get(key, key)
        test = self._condition(family, spec[key], f"{path}.{key}")
        return lambda page: test(self._filter_value(page, prop))

    def _condition(self, family: str, condition: Any, path: str) -> Callable[[Any], bool]:
        if not isinstance(condition, dict) or len(condition) != 1:
            raise _invalid(path, "an object with one condition", condition)
        ((operator, argument),) = condition.items()
        where = f"{path}.{operator}"
        if operator in ("is_empty", "is_not_empty"):
            if argument is not True:
                raise _invalid(where, "`true`", argument)
            if family == "checkbox":
                raise _invalid(path, "equals or does_not_equal", condition)
            empty = operator == "is_empty"
            return lambda value: (value in (None, "", [])) == empty
        builder = {
            "text": self._text_condition,
            "number": self._number_condition,
            "checkbox": self._checkbox_condition,
            "select": self._select_condition,
            "multi_select": self._multi_select_condition,
            "date": self._date_condition,
            "relation": self._relation_condition,
        }[family]
        return builder(operator, argument, where)

    @staticmethod
    def _text_condition(operator: str, argument: Any, where: str) -> Callable[[Any], bool]:
        if not isinstance(argument, str):
            raise _invalid(where, "a string", argument)
        wanted = argument.casefold()
        tests: dict[str, Callable[[str], bool]] = {
            "equals": lambda v: v == argument,
            "does_not_equal": lambda v: v != argument,
            "contains": lambda v: wanted in v.casefold(),
            "does_not_contain": lambda v: wanted not in v.casefold(),
            "starts_with": lambda v: v.casefold().startswith(wanted),
            "ends_with": lambda v: v.casefold().endswith(wanted),
        }
        if operator not in tests:
            raise _invalid(where.rsplit(".", 1)[0], "a text filter condition", {operator: argument})
        test = tests[operator]
        return lambda value: test(value or "")

    @staticmethod
    def _number_condition(operator: str, argument: Any, where: str) -> Callable[[Any], bool]:
        if isinstance(argument, bool) or not isinstance(argument, int | float):
            raise _invalid(where, "a number", argument)
        tests: dict[str, Callable[[float], bool]] = {
            "equals": lambda v: v == argument,
            "does_not_equal": lambda v: v != argument,
            "greater_than": lambda v: v > argument,
            "less_than": lambda v: v < argument,
            "greater_than_or_equal_to": lambda v: v >= argument,
            "less_than_or_equal_to": lambda v: v <= argument,
        }
        if operator not in tests:
            raise _invalid(where.rsplit(".", 1)[0], "a number filter condition", operator)
        test = tests[operator]
        if operator == "does_not_equal":
            return lambda value: value is None or test(value)
        return lambda value: value is not None and test(value)

    @staticmethod
    def _checkbox_condition(operator: str, argument: Any, where: str) -> Callable[[Any], bool]:
        if not isinstance(argument, bool):
            raise _invalid(where, "a boolean", argument)
        if operator == "equals":
            return lambda value: bool(value) == argument
        if operator == "does_not_equal":
            return lambda value: bool(value) != argument
        raise _invalid(where.rsplit(".", 1)[0], "equals or does_not_equal", operator)

    @staticmethod
    def _select_condition(operator: str, argument: Any, where: str) -> Callable[[Any], bool]:
        if not isinstance(argument, str):
            raise _invalid(where, "a string", argument)
        if operator == "equals":
            return lambda value: value == argument
        if operator == "does_not_equal":
            return lambda value: value != argument
        raise _invalid(where.rsplit(".", 1)[0], "a select filter condition", operator)

    @staticmethod
    def _multi_select_condition(operator: str, argument: Any, where: str) -> Callable[[Any], bool]:
        if not isinstance(argument, str):
            raise _invalid(where, "a string", argument)
        if operator == "contains":
            return lambda value: argument in (value or [])
        if operator == "does_not_contain":
            return lambda value: argument not in (value or [])
        raise _invalid(where.rsplit(".", 1)[0], "a multi_select filter condition", operator)

    @staticmethod
    def _date_condition(operator: str, argument: Any, where: str) -> Callable[[Any], bool]:
        comparisons: dict[str, Callable[[int], bool]] = {
            "equals": lambda c: c == 0,
            "before": lambda c: c < 0,
            "after": lambda c: c > 0,
            "on_or_before": lambda c: c <= 0,
            "on_or_after": lambda c: c >= 0,
        }
        if operator not in comparisons:
            raise _validation(
                f"body failed validation: {where} is not an emulated date condition (equals, "
                "before, after, on_or_before, on_or_after, is_empty, is_not_empty)."
            )
        moment = _moment(argument)
        if moment is None:
            raise _invalid(where, "a valid ISO 8601 date string", argument)
        accept = comparisons[operator]
        return lambda value: value is not None and accept(_compare_moments(value, moment))

    @staticmethod
    def _relation_condition(operator: str, argument: Any, where: str) -> Callable[[Any], bool]:
        wanted = _body_id(argument, where)
        if operator == "contains":
            return lambda value: wanted in (value or [])
        if operator == "does_not_contain":
            return lambda value: wanted not in (value or [])
        raise _invalid(where.rsplit(".", 1)[0], "a relation filter condition", operator)

    def _filter_value(self, page: _Page, prop: _Property) -> Any:
        """A property's value as filters see it."""
        value = page.values.get(prop.id)
        kind = prop.type
        if kind in TEXT_TYPES:
            return _plain(value)
        if kind == "select":
            option = prop.option(option_id=value) if value else None
            return option["name"] if option else None
        if kind == "multi_select":
            names = [prop.option(option_id=i) for i in value or []]
            return [o["name"] for o in names if o]
        if kind == "date":
            return _moment(value["start"]) if value else None
        if kind == "checkbox":
            return bool(value)
        if kind == "relation":
            return list(value or [])
        if kind in READ_ONLY_TYPES:
            return self._timestamp(page, kind)
        return value

    @staticmethod
    def _timestamp(page: _Page, stamp: str) -> datetime:
        return _minute(page.created if stamp == "created_time" else page.edited)

    def _comparator(self, source: _DataSource, sorts: Any) -> Callable[[_Page, _Page], int]:
        if not isinstance(sorts, list):
            raise _invalid("body.sorts", "an array", sorts)
        keys: list[tuple[Callable[[_Page], Any], bool]] = []
        for index, spec in enumerate(sorts):
            where = f"body.sorts[{index}]"
            if not isinstance(spec, dict):
                raise _invalid(where, "an object", spec)
            direction = spec.get("direction", "ascending")
            if direction not in ("ascending", "descending"):
                raise _invalid(f"{where}.direction", '"ascending" or "descending"', direction)
            if "timestamp" in spec:
                stamp = spec["timestamp"]
                if stamp not in ("created_time", "last_edited_time"):
                    raise _invalid(f"{where}.timestamp", "a timestamp", stamp)
                keys.append((lambda p, s=stamp: self._timestamp(p, s), direction == "descending"))
                continue
            prop = source.prop(spec.get("property"))
            if prop is None:
                raise _validation(
                    f"Could not find sort property with name or id: {spec.get('property')}"
                )
            keys.append((lambda p, q=prop: self._sort_value(p, q), direction == "descending"))

        def compare(left: _Page, right: _Page) -> int:
            for key, descending in keys:
                a, b = key(left), key(right)
                if a is None and b is None:
                    continue
                if a is None or b is None:
                    return 1 if a is None else -1  # empty values last, either way
                if a != b:
                    result = -1 if a < b else 1
                    return -result if descending else result
            return 0

        return compare

    def _sort_value(self, page: _Page, prop: _Property) -> Any:
        value = self._filter_value(page, prop)
        kind = prop.type
        if kind in TEXT_TYPES or kind in STRING_TYPES:
            return value.casefold() if value else None
        if kind == "select":
            names = [o["name"] for o in prop.config.get("options", [])]
            return names.index(value) if value in names else None
        if kind == "multi_select":
            return tuple(value) if value else None
        if kind == "date":
            return _sortable_moment(value) if value is not None else None
        if kind == "relation":
            return len(value) if value else None
        return value
