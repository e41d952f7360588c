"""How the Notion emulator writes its objects as the API's JSON."""

from __future__ import annotations

import copy
from typing import Any

from emulators.notion.helpers import _iso_minute
from emulators.notion.model import (
    BOT_USER_ID,
    INLINE_RELATION_LIMIT,
    TEXT_TYPES,
    _Database,
    _DataSource,
    _Page,
    _Property,
)


class Rendering:
    """Databases, data sources, pages and property values as the API returns them in JSON.

    Mixed into ``NotionEmulator``, whose lookups (``_page``, ``_new_id``…) it uses.
    """

    def _database_json(self, database: _Database) -> dict[str, Any]:
        return {
            "object": "database",
            "id": database.id,
            "title": copy.deepcopy(database.title),
            "description": [],
            "parent": {"type": "page_id", "page_id": database.parent_page_id},
            "is_inline": database.is_inline,
            "in_trash": database.in_trash,
            "archived": database.in_trash,
            "is_locked": False,
            "created_time": _iso_minute(database.created),
            "last_edited_time": _iso_minute(database.edited),
            "created_by": {"object": "user", "id": BOT_USER_ID},
            "last_edited_by": {"object": "user", "id": BOT_USER_ID},
            "data_sources": [
                {"id": i, "name": self._data_sources[i].name} for i in database.data_source_ids
            ],
            "icon": None,
            "cover": None,
            "url": f"https://www.notion.so/{database.id.replace('-', '')}",
            "public_url": None,
        }

    def _data_source_json(self, source: _DataSource) -> dict[str, Any]:
        database = self._databases[source.database_id]
        return {
            "object": "data_source",
            "id": source.id,
            "title": copy.deepcopy(source.title),
            "description": [],
            "parent": {"type": "database_id", "database_id": database.id},
            "database_parent": {"type": "page_id", "page_id": database.parent_page_id},
            "is_inline": database.is_inline,
            "in_trash": source.in_trash,
            "archived": source.in_trash,
            "created_time": _iso_minute(source.created),
            "last_edited_time": _iso_minute(source.edited),
            "created_by": {"object": "user", "id": BOT_USER_ID},
            "last_edited_by": {"object": "user", "id": BOT_USER_ID},
            "properties": {p.name: p.json() for p in source.properties},
            "icon": None,
            "cover": None,
            "url": f"https://www.notion.so/{source.id.replace('-', '')}",
            "public_url": None,
        }

    def _page_json(
        self, page: _Page, *, full: bool = False, wanted: set[str] | None = None
    ) -> dict[str, Any]:
        if page.data_source_id is not None:
            source = self._data_sources[page.data_source_id]
            parent: dict[str, Any] = {
                "type": "data_source_id",
                "data_source_id": source.id,
                "database_id": source.database_id,
            }
            properties = {
                p.name: self._value_json(page, p, full)
                for p in source.properties
                if wanted is None or p.id in wanted
            }
        else:
            if page.parent_page_id is None:
                parent = {"type": "workspace", "workspace": True}
            else:
                parent = {"type": "page_id", "page_id": page.parent_page_id}
            properties = {
                "title": {
                    "id": "title",
                    "type": "title",
                    "title": copy.deepcopy(page.values.get("title", [])),
                }
            }
        return {
            "object": "page",
            "id": page.id,
            "created_time": _iso_minute(page.created),
            "last_edited_time": _iso_minute(page.edited),
            "created_by": {"object": "user", "id": page.created_by},
            "last_edited_by": {"object": "user", "id": page.edited_by},
            "cover": None,
            "icon": None,
            "parent": parent,
            "archived": page.in_trash,
            "in_trash": page.in_trash,
            "is_locked": False,
            "properties": properties,
            "url": f"https://www.notion.so/{page.id.replace('-', '')}",
            "public_url": None,
        }

    def _value_json(self, page: _Page, prop: _Property, full: bool) -> dict[str, Any]:
        value = page.values.get(prop.id)
        kind = prop.type
        out: dict[str, Any] = {"id": prop.id, "type": kind}
        if kind in TEXT_TYPES:
            out[kind] = copy.deepcopy(value or [])
        elif kind == "select":
            option = prop.option(option_id=value) if value else None
            out[kind] = (
                {k: option[k] for k in ("id", "name", "color")} if option is not None else None
            )
        elif kind == "multi_select":
            options = [prop.option(option_id=i) for i in value or []]
            out[kind] = [{k: o[k] for k in ("id", "name", "color")} for o in options if o]
        elif kind == "checkbox":
            out[kind] = bool(value)
        elif kind == "relation":
            ids = list(value or [])
            shown = ids if full else ids[:INLINE_RELATION_LIMIT]
            out[kind] = [{"id": i} for i in shown]
            out["has_more"] = len(shown) < len(ids)
        elif kind == "created_time":
            out[kind] = _iso_minute(page.created)
        elif kind == "last_edited_time":
            out[kind] = _iso_minute(page.edited)
        else:  # number, date, email, url, phone_number
            out[kind] = copy.deepcopy(value)
        return out
