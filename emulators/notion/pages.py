"""The Notion emulator's pages, their property values and property items."""

from __future__ import annotations

import base64
import json
import math
from typing import Any
from urllib.parse import quote, unquote

from emulators.notion.errors import ApiError, _invalid, _validation
from emulators.notion.helpers import (
    _body_id,
    _bool,
    _moment,
    _object_body,
    _page_size,
    _rich_text,
    _trash_flag,
)
from emulators.notion.model import (
    BOT_USER_ID,
    FILTER_KEYS,
    MAX_ARRAY_LENGTH,
    MAX_PAGE_SIZE,
    PAGINATED_TYPES,
    READ_ONLY_TYPES,
    STRING_TYPES,
    TEXT_TYPES,
    _DataSource,
    _Effects,
    _Page,
    _Property,
    _Route,
)


class Pages:
    """Pages: create, retrieve, update, property items (paginated), the bot user, and
    property values checked against the schema.

    Mixed into ``NotionEmulator``, whose lookups (``_page``, ``_new_id``…) it uses.
    """

    def _op_create_page(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        body = _object_body(body)
        parent = body.get("parent")
        if not isinstance(parent, dict):
            raise _invalid("body.parent", "an object", parent)
        properties = body.get("properties", {})
        if not isinstance(properties, dict):
            raise _invalid("body.properties", "an object", properties)
        source: _DataSource | None = None
        if "data_source_id" in parent:
            source = self._data_source_or_404(parent["data_source_id"])
        elif "database_id" in parent:
            database = self._database_or_404(parent["database_id"])
            if len(database.data_source_ids) != 1:
                raise _validation(
                    "The database has several data sources: give parent.data_source_id."
                )
            source = self._data_sources[database.data_source_ids[0]]
        elif "page_id" in parent:
            parent_page = self._page_or_404(parent["page_id"])
            values = self._plain_page_values(properties)
            page = self._new_page(None, parent_page.id, values)
            return 200, self._page_json(page)
        else:
            raise _invalid("body.parent", "a data_source_id, database_id or page_id", parent)
        effects = _Effects()
        values = self._prepare_values(source, properties, effects, "body.properties")
        effects.commit()
        page = self._new_page(source.id, None, values)
        return 200, self._page_json(page)

    def _op_retrieve_page(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        page = self._page_or_404(route.id)
        wanted = None
        if page.data_source_id is not None:
            wanted = self._filter_properties(self._data_sources[page.data_source_id], query)
        return 200, self._page_json(page, wanted=wanted)

    def _op_update_page(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        page = self._page_or_404(route.id)
        body = _object_body(body)
        trash = _trash_flag(body)
        properties = body.get("properties")
        if properties is not None and not isinstance(properties, dict):
            raise _invalid("body.properties", "an object", properties)
        if page.in_trash and trash is not False and (properties or trash is None):
            raise _validation(
                "Can't edit block that is archived. You must unarchive the block before editing."
            )
        effects = _Effects()
        values: dict[str, Any] = {}
        if properties:
            if page.data_source_id is None:
                values = self._plain_page_values(properties)
            else:
                source = self._data_sources[page.data_source_id]
                values = self._prepare_values(source, properties, effects, "body.properties")
        effects.commit()
        page.values.update(values)
        if trash is not None:
            page.in_trash = trash
        page.edited = self._now()
        page.edited_by = BOT_USER_ID
        return 200, self._page_json(page)

    def _op_retrieve_property(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        page = self._page_or_404(route.id)
        raw_id = route.property_id or ""
        if page.data_source_id is None:
            prop = _Property("title", "title", "title") if unquote(raw_id) == "title" else None
        else:
            prop = self._data_sources[page.data_source_id].prop(unquote(raw_id))
            if prop is None:
                prop = self._data_sources[page.data_source_id].prop(raw_id)
        if prop is None:
            raise ApiError(404, "object_not_found", f"Could not find property with ID: {raw_id}.")
        rendered = self._value_json(page, prop, full=True)
        if prop.type not in PAGINATED_TYPES:
            return 200, {"object": "property_item", **rendered}
        page_size = _page_size(query.get("page_size", [str(MAX_PAGE_SIZE)])[0], "page_size")
        if prop.type == "relation":
            items = [
                {"object": "property_item", "id": prop.id, "type": "relation", "relation": r}
                for r in rendered["relation"]
            ]
        else:
            items = [
                {"object": "property_item", "id": prop.id, "type": prop.type, prop.type: t}
                for t in rendered[prop.type]
            ]
        start = 0
        if query.get("start_cursor"):
            start = self._property_cursor_index(query["start_cursor"][0], page, prop)
        batch = items[start : start + page_size]
        has_more = start + page_size < len(items)
        next_cursor = self._property_cursor(page, prop, start + page_size) if has_more else None
        next_url = None
        if next_cursor is not None:
            next_url = (
                f"{self.url}/v1/pages/{page.id}/properties/{prop.id}"
                f"?start_cursor={quote(next_cursor, safe='')}"
            )
        return 200, {
            "object": "list",
            "results": batch,
            "next_cursor": next_cursor,
            "has_more": has_more,
            "type": "property_item",
            "property_item": {
                "id": prop.id,
                "next_url": next_url,
                "type": prop.type,
                prop.type: {},
            },
        }

    @staticmethod
    def _property_cursor(page: _Page, prop: _Property, index: int) -> str:
        raw = json.dumps([page.id, prop.id, index]).encode("utf-8")
        return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")

    @staticmethod
    def _property_cursor_index(cursor: str, page: _Page, prop: _Property) -> int:
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            page_id, prop_id, index = json.loads(base64.urlsafe_b64decode(padded))
        except (ValueError, TypeError) as error:
            raise _validation(f"start_cursor provided is invalid: {cursor}") from error
        if page_id != page.id or prop_id != prop.id or not isinstance(index, int) or index < 0:
            raise _validation(f"start_cursor provided is invalid: {cursor}")
        return index

    def _op_retrieve_bot_user(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        return 200, {
            "object": "user",
            "id": BOT_USER_ID,
            "name": "Emulated integration",
            "avatar_url": None,
            "type": "bot",
            "bot": {
                "owner": {"type": "workspace", "workspace": True},
                "workspace_name": "Emulated workspace",
            },
        }

    def _plain_page_values(self, properties: dict[str, Any]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for key, raw in properties.items():
            if key != "title":
                raise _validation(f"{key} is not a property that exists.")
            if not isinstance(raw, dict) or "title" not in raw:
                raise _validation("title is expected to be title.")
            values["title"] = _rich_text(raw["title"], "body.properties.title.title")
        return values

    def _prepare_values(
        self, source: _DataSource, properties: dict[str, Any], effects: _Effects, path: str
    ) -> dict[str, Any]:
        """Check a write against the schema; return the values to store by property id."""
        values: dict[str, Any] = {}
        for key, raw in properties.items():
            prop = source.prop(key)
            if prop is None:
                raise _validation(f"{key} is not a property that exists.")
            if prop.type in READ_ONLY_TYPES:
                raise _validation(f"{prop.name} is a {prop.type} property and cannot be set.")
            values[prop.id] = self._parse_value(prop, raw, f"{path}.{key}", effects)
        return values

    def _parse_value(self, prop: _Property, raw: Any, path: str, effects: _Effects) -> Any:
        kind = prop.type
        if not isinstance(raw, dict):
            raise _invalid(path, "an object", raw)
        if kind not in raw:
            given = raw.get("type") or next((k for k in raw if k in FILTER_KEYS), None)
            if given is not None and given != kind:
                raise _validation(f"{prop.name} is expected to be {kind}.")
            raise _invalid(f"{path}.{kind}", "defined", None)
        if raw.get("type", kind) != kind:
            raise _validation(f"{prop.name} is expected to be {kind}.")
        value = raw[kind]
        where = f"{path}.{kind}"
        if kind in TEXT_TYPES:
            return _rich_text(value, where)
        if kind == "number":
            if value is None:
                return None
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
            ):
                raise _invalid(where, "a number or `null`", value)
            return value
        if kind == "checkbox":
            return _bool(value, where)
        if kind in STRING_TYPES:
            if value is not None and not isinstance(value, str):
                raise _invalid(where, "a string or `null`", value)
            return value or None
        if kind == "select":
            return None if value is None else self._option_id(prop, value, where, effects)
        if kind == "multi_select":
            if not isinstance(value, list):
                raise _invalid(where, "an array", value)
            chosen: list[str] = []
            for index, item in enumerate(value):
                option_id = self._option_id(prop, item, f"{where}[{index}]", effects)
                if option_id not in chosen:
                    chosen.append(option_id)
            return chosen
        if kind == "date":
            return self._parse_date(value, where)
        if kind == "relation":
            return self._parse_relation(prop, value, where)
        raise _validation(f"{prop.name}: writing {kind} is not emulated.")

    def _option_id(self, prop: _Property, raw: Any, path: str, effects: _Effects) -> str:
        if not isinstance(raw, dict) or not ("name" in raw or "id" in raw):
            raise _invalid(path, "an object with a name or an id", raw)
        if raw.get("id") is not None:
            option = prop.option(option_id=raw["id"])
            if option is None:
                raise _validation(f"Select option id not found: {raw['id']}.")
            return str(option["id"])
        name = raw["name"]
        if not isinstance(name, str) or not name:
            raise _invalid(f"{path}.name", "a non-empty string", name)
        option = prop.option(name=name) or effects.pending(prop, name)
        if option is None:
            option = self._new_option({"name": name, "color": raw.get("color")}, path)
            effects.options.append((prop, option))
        return str(option["id"])

    @staticmethod
    def _parse_date(value: Any, path: str) -> dict[str, Any] | None:
        if value is None:
            return None
        if not isinstance(value, dict):
            raise _invalid(path, "an object or `null`", value)
        start = value.get("start")
        if _moment(start) is None:
            raise _invalid(f"{path}.start", "a valid ISO 8601 date string", start)
        end = value.get("end")
        if end is not None and _moment(end) is None:
            raise _invalid(f"{path}.end", "a valid ISO 8601 date string or `null`", end)
        time_zone = value.get("time_zone")
        if time_zone is not None and not isinstance(time_zone, str):
            raise _invalid(f"{path}.time_zone", "a string or `null`", time_zone)
        return {"start": start, "end": end, "time_zone": time_zone}

    def _parse_relation(self, prop: _Property, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            raise _invalid(path, "an array", value)
        if len(value) > MAX_ARRAY_LENGTH:
            raise _invalid(f"{path}.length", f"≤ `{MAX_ARRAY_LENGTH}`", len(value))
        ids: list[str] = []
        for index, item in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(item, dict):
                raise _invalid(where, "an object", item)
            page_id = _body_id(item.get("id"), f"{where}.id")
            target = self._pages.get(page_id)
            if target is None or target.data_source_id != prop.config["data_source_id"]:
                raise _validation(
                    f"Could not find page with ID: {page_id} in the data source related by "
                    f"{prop.name}."
                )
            if page_id not in ids:
                ids.append(page_id)
        return ids
