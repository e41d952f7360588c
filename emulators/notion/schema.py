"""The Notion emulator's databases and data sources, and the schemas of their properties."""

from __future__ import annotations

import copy
from typing import Any

from emulators.notion.errors import _invalid, _validation
from emulators.notion.helpers import _body_id, _bool, _object_body, _rich_text, _trash_flag
from emulators.notion.model import (
    OPTION_COLORS,
    PROPERTY_TYPES,
    UNEMULATED_TYPES,
    _Database,
    _DataSource,
    _find_property,
    _Property,
    _Route,
)


class Schema:
    """Databases and data sources: create, retrieve, update, and their property schemas.

    Mixed into ``NotionEmulator``, whose lookups (``_page``, ``_new_id``…) it uses.
    """

    def _op_create_database(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        body = _object_body(body)
        parent = body.get("parent")
        if not isinstance(parent, dict):
            raise _invalid("body.parent", "an object", parent)
        if parent.get("type", "page_id") != "page_id" or "page_id" not in parent:
            raise _invalid("body.parent.page_id", "defined (databases are created in a page)", None)
        parent_page = self._page_or_404(_body_id(parent["page_id"], "body.parent.page_id"))
        title = _rich_text(body.get("title", []), "body.title")
        is_inline = _bool(body.get("is_inline", False), "body.is_inline")
        initial = body.get("initial_data_source", {})
        if not isinstance(initial, dict):
            raise _invalid("body.initial_data_source", "an object", initial)
        properties = initial.get("properties", {"Name": {"title": {}}})
        source_title = None
        if "title" in initial:
            source_title = _rich_text(initial["title"], "body.initial_data_source.title")
        database, _source = self._new_database(
            parent_page.id, title, properties, is_inline, source_title
        )
        return 200, self._database_json(database)

    def _op_retrieve_database(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        return 200, self._database_json(self._database_or_404(route.id))

    def _op_update_database(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        database = self._database_or_404(route.id)
        body = _object_body(body)
        title = _rich_text(body["title"], "body.title") if "title" in body else None
        trash = _trash_flag(body)
        is_inline = _bool(body["is_inline"], "body.is_inline") if "is_inline" in body else None
        if title is not None:
            database.title = title
        if trash is not None:
            database.in_trash = trash
        if is_inline is not None:
            database.is_inline = is_inline
        database.edited = self._now()
        return 200, self._database_json(database)

    def _op_create_data_source(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        body = _object_body(body)
        parent = body.get("parent")
        if not isinstance(parent, dict) or "database_id" not in parent:
            raise _invalid("body.parent.database_id", "defined", None)
        database = self._database_or_404(parent["database_id"])
        title = _rich_text(body.get("title", []), "body.title")
        properties = body.get("properties")
        if not isinstance(properties, dict):
            raise _invalid("body.properties", "an object", properties)
        source_id = self._new_id()
        schema = self._build_schema(properties, "body.properties")
        now = self._now()
        source = _DataSource(source_id, database.id, title, schema, now, now)
        self._data_sources[source.id] = source
        database.data_source_ids.append(source.id)
        return 200, self._data_source_json(source)

    def _op_retrieve_data_source(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        return 200, self._data_source_json(self._data_source_or_404(route.id))

    def _op_update_data_source(
        self, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        source = self._data_source_or_404(route.id)
        body = _object_body(body)
        title = _rich_text(body["title"], "body.title") if "title" in body else None
        trash = _trash_flag(body)
        if "properties" in body:
            if not isinstance(body["properties"], dict):
                raise _invalid("body.properties", "an object", body["properties"])
            self._update_schema(source, body["properties"])
        if title is not None:
            source.title = title
        if trash is not None:
            source.in_trash = trash
        source.edited = self._now()
        return 200, self._data_source_json(source)

    def _new_database(
        self,
        parent_page_id: str,
        title: list[dict[str, Any]],
        properties: Any,
        is_inline: bool,
        source_title: list[dict[str, Any]] | None,
    ) -> tuple[_Database, _DataSource]:
        if not isinstance(properties, dict):
            raise _invalid("body.initial_data_source.properties", "an object", properties)
        schema = self._build_schema(properties, "body.initial_data_source.properties")
        now = self._now()
        database = _Database(self._new_id(), parent_page_id, title, [], now, now, is_inline)
        source = _DataSource(
            self._new_id(),
            database.id,
            copy.deepcopy(source_title if source_title is not None else title),
            schema,
            now,
            now,
        )
        database.data_source_ids.append(source.id)
        self._databases[database.id] = database
        self._data_sources[source.id] = source
        return database, source

    def _build_schema(self, properties: dict[str, Any], path: str) -> list[_Property]:
        schema: list[_Property] = []
        for name, config in properties.items():
            prop = self._build_property(name, config, f"{path}.{name}", schema)
            if any(p.name == prop.name for p in schema):
                raise _validation(f"Property names must be unique: {prop.name}.")
            schema.append(prop)
        titles = [p for p in schema if p.type == "title"]
        if len(titles) != 1:
            raise _validation(
                f"body failed validation: {path} should have exactly one title property, "
                f"instead had {len(titles)}."
            )
        return schema

    def _build_property(
        self, name: str, config: Any, path: str, siblings: list[_Property]
    ) -> _Property:
        kind, inner = self._property_kind(config, path)
        display = config.get("name", name) if isinstance(config, dict) else name
        if not isinstance(display, str) or not display.strip():
            raise _invalid(f"{path}.name", "a non-empty string", display)
        description = config.get("description") if isinstance(config, dict) else None
        taken = {p.id for p in siblings}
        prop_id = "title" if kind == "title" else self._new_property_id(taken)
        prop = _Property(prop_id, display, kind, {}, description)
        prop.config = self._property_config(prop, inner, path)
        return prop

    def _property_kind(self, config: Any, path: str) -> tuple[str, dict[str, Any]]:
        if not isinstance(config, dict):
            raise _invalid(path, "an object", config)
        kind = config.get("type")
        if kind is None:
            keys = [k for k in config if k in PROPERTY_TYPES or k in UNEMULATED_TYPES]
            if len(keys) != 1:
                raise _invalid(path, "a property configuration with one type", config)
            kind = keys[0]
        if kind in UNEMULATED_TYPES:
            raise _validation(f"{path}: the property type {kind} is not emulated.")
        if kind not in PROPERTY_TYPES:
            raise _invalid(f"{path}.type", "a property type", kind)
        inner = config.get(kind, {})
        if not isinstance(inner, dict):
            raise _invalid(f"{path}.{kind}", "an object", inner)
        return kind, inner

    def _property_config(self, prop: _Property, inner: dict[str, Any], path: str) -> dict[str, Any]:
        kind = prop.type
        if kind == "number":
            number_format = inner.get("format", "number")
            if not isinstance(number_format, str):
                raise _invalid(f"{path}.number.format", "a string", number_format)
            return {"format": number_format}
        if kind in ("select", "multi_select"):
            options: list[dict[str, Any]] = []
            raw_options = inner.get("options", [])
            if not isinstance(raw_options, list):
                raise _invalid(f"{path}.{kind}.options", "an array", raw_options)
            for index, raw in enumerate(raw_options):
                option = self._new_option(raw, f"{path}.{kind}.options[{index}]")
                if any(o["name"] == option["name"] for o in options):
                    raise _validation(f"Duplicate select option name: {option['name']}.")
                options.append(option)
            return {"options": options}
        if kind == "relation":
            return self._relation_config(inner, f"{path}.relation")
        return {}

    def _relation_config(self, inner: dict[str, Any], path: str) -> dict[str, Any]:
        target_id = _body_id(inner.get("data_source_id"), f"{path}.data_source_id")
        target = self._data_sources.get(target_id)
        if target is None:
            raise _validation(f"Could not find data source with ID: {target_id}.")
        kind = inner.get("type", "dual_property" if "dual_property" in inner else "single")
        if kind == "dual_property":
            raise _validation(f"{path}: dual_property relations are not emulated.")
        return {
            "data_source_id": target.id,
            "database_id": target.database_id,
            "type": "single_property",
            "single_property": {},
        }

    def _new_option(self, raw: Any, path: str) -> dict[str, Any]:
        if not isinstance(raw, dict) or not isinstance(raw.get("name"), str):
            raise _invalid(f"{path}.name", "a string", (raw or {}).get("name"))
        name = raw["name"]
        if "," in name:
            raise _validation(f"Invalid select option, commas not allowed: {name}")
        color = raw.get("color") or self._random.choice(OPTION_COLORS)
        return {
            "id": raw.get("id") or self._new_id(),
            "name": name,
            "color": color,
            "description": raw.get("description"),
        }

    def _update_schema(self, source: _DataSource, changes: dict[str, Any]) -> None:
        """Apply a PATCH of properties, all or nothing."""
        schema = copy.deepcopy(source.properties)
        removed: list[str] = []
        for key, config in changes.items():
            path = f"body.properties.{key}"
            existing = _find_property(schema, key)
            if config is None:
                if existing is None:
                    raise _validation(f"{key} is not a property that exists.")
                if existing.type == "title":
                    raise _validation("The title property cannot be removed.")
                schema.remove(existing)
                removed.append(existing.id)
                continue
            if not isinstance(config, dict):
                raise _invalid(path, "an object or null", config)
            if existing is None:
                prop = self._build_property(key, config, path, schema)
                if prop.type == "title":
                    raise _validation("A data source has exactly one title property.")
                if any(p.name == prop.name for p in schema):
                    raise _validation(f"Property names must be unique: {prop.name}.")
                schema.append(prop)
                continue
            if "name" in config:
                new_name = config["name"]
                if not isinstance(new_name, str) or not new_name.strip():
                    raise _invalid(f"{path}.name", "a non-empty string", new_name)
                if any(p.name == new_name and p is not existing for p in schema):
                    raise _validation(f"Property names must be unique: {new_name}.")
                existing.name = new_name
            if set(config) - {"name", "description"}:
                kind, inner = self._property_kind(
                    {k: v for k, v in config.items() if k not in ("name", "description")}, path
                )
                if kind != existing.type:
                    raise _validation(
                        f"{path}: changing a property's type ({existing.type} to {kind}) is "
                        "not emulated."
                    )
                self._merge_config(existing, inner, path)
            if "description" in config:
                existing.description = config["description"]
        source.properties = schema
        for page in self._pages.values():
            if page.data_source_id == source.id:
                for prop_id in removed:
                    page.values.pop(prop_id, None)

    def _merge_config(self, prop: _Property, inner: dict[str, Any], path: str) -> None:
        if prop.type in ("select", "multi_select") and "options" in inner:
            if not isinstance(inner["options"], list):
                raise _invalid(f"{path}.{prop.type}.options", "an array", inner["options"])
            for index, raw in enumerate(inner["options"]):
                where = f"{path}.{prop.type}.options[{index}]"
                known = None
                if isinstance(raw, dict):
                    known = prop.option(option_id=raw.get("id")) or prop.option(
                        name=raw.get("name")
                    )
                if known is not None:
                    if isinstance(raw.get("name"), str):
                        known["name"] = raw["name"]
                    if raw.get("color"):
                        known["color"] = raw["color"]
                    continue
                prop.config.setdefault("options", []).append(self._new_option(raw, where))
        elif prop.type == "number" and "format" in inner:
            prop.config = self._property_config(prop, inner, path)
        elif prop.type == "relation":
            new = self._relation_config(inner, f"{path}.relation")
            if new["data_source_id"] != prop.config["data_source_id"]:
                raise _validation(f"{path}: retargeting a relation is not emulated.")
