"""The emulated Notion's limits, property types, filter keys and ids, the request log's entry, and
the in-memory model (databases, data sources, properties, pages)."""

from __future__ import annotations

import copy
import re
import string
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import unquote

API_VERSION = "2025-09-03"
MAX_PAGE_SIZE = 100
INLINE_RELATION_LIMIT = 25
MAX_TEXT_LENGTH = 2000
MAX_ARRAY_LENGTH = 100
MAX_FILTER_DEPTH = 2

ERROR_CODES = frozenset(
    {
        "invalid_json",
        "invalid_request_url",
        "invalid_request",
        "validation_error",
        "missing_version",
        "unauthorized",
        "restricted_resource",
        "object_not_found",
        "conflict_error",
        "rate_limited",
        "internal_server_error",
        "service_unavailable",
        "database_connection_unavailable",
        "gateway_timeout",
    }
)
PROPERTY_TYPES = (
    "title",
    "rich_text",
    "number",
    "select",
    "multi_select",
    "date",
    "checkbox",
    "email",
    "url",
    "phone_number",
    "relation",
    "created_time",
    "last_edited_time",
)
UNEMULATED_TYPES = (
    "formula",
    "rollup",
    "people",
    "files",
    "status",
    "unique_id",
    "created_by",
    "last_edited_by",
    "button",
    "verification",
    "place",
)
TEXT_TYPES = ("title", "rich_text")
STRING_TYPES = ("email", "url", "phone_number")
READ_ONLY_TYPES = ("created_time", "last_edited_time")
PAGINATED_TYPES = ("title", "rich_text", "relation")
FILTER_KEYS = {
    "title": {"title", "rich_text"},
    "rich_text": {"rich_text"},
    "email": {"email", "rich_text"},
    "url": {"url", "rich_text"},
    "phone_number": {"phone_number", "rich_text"},
    "number": {"number"},
    "select": {"select"},
    "multi_select": {"multi_select"},
    "date": {"date"},
    "checkbox": {"checkbox"},
    "relation": {"relation"},
    "created_time": {"created_time", "date"},
    "last_edited_time": {"last_edited_time", "date"},
}
OPTION_COLORS = ("gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red")
ANNOTATIONS = {
    "bold": False,
    "italic": False,
    "strikethrough": False,
    "underline": False,
    "code": False,
    "color": "default",
}
PROPERTY_ID_CHARS = string.ascii_letters + string.digits + "<>?[]\\^`{|}:;=@~"
BOT_USER_ID = "00000000-0000-4000-8000-00000000b07e"
STAFF_USER_ID = "00000000-0000-4000-8000-0000000057af"
WORKSPACE_ID = "00000000-0000-4000-8000-00000000a0a0"
INTEGRATION_ID = "00000000-0000-4000-8000-00000000c0de"
SUBSCRIPTION_ID = "00000000-0000-4000-8000-000000005eb5"
FAULT_CODES = {
    400: "validation_error",
    401: "unauthorized",
    403: "restricted_resource",
    404: "object_not_found",
    409: "conflict_error",
    429: "rate_limited",
    500: "internal_server_error",
    503: "service_unavailable",
    504: "gateway_timeout",
}
FAULT_MESSAGES = {
    "validation_error": "Injected validation error.",
    "unauthorized": "API token is invalid.",
    "restricted_resource": "Insufficient permissions for this endpoint.",
    "object_not_found": "Could not find the object.",
    "conflict_error": "Conflict occurred while saving. Please try again.",
    "rate_limited": "You have been rated limited. Please try again in a few minutes.",
    "internal_server_error": "Unexpected error occurred.",
    "service_unavailable": "Notion is unavailable, try again later.",
    "database_connection_unavailable": "Database connection unavailable, try again later.",
    "gateway_timeout": "Gateway timeout, try again later.",
}
DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
HEX_ID = re.compile(r"^[0-9a-fA-F]{32}$")
#: An integration's capabilities (Notion: read, insert and update content), and the one each
#: kind of request needs.
CAPABILITIES = ("read", "insert", "update")
CAPABILITY_NEEDED = {"create": "insert", "update": "update"}


@dataclass
class NotionRequest:
    """One request as the emulator saw it (the test's view of the traffic)."""

    method: str
    path: str  # decoded, without the query string
    operation: str  # query, create_page, update_page, retrieve_page, retrieve_property, ...
    query: dict[str, list[str]]
    body: Any
    data_source: str | None = None  # the data source concerned, when there is one
    database: str | None = None
    page: str | None = None
    status: int | None = None  # None: the connection was closed without an answer
    result_count: int | None = None  # results returned by query and retrieve_property
    timestamp: float = 0.0  # time.time() on arrival


@dataclass
class _Route:
    operation: str
    id: str | None = None  # the raw id segment
    property_id: str | None = None  # the raw property id segment


# ---- the model ----------------------------------------------------------------------------


@dataclass
class _Property:
    id: str
    name: str
    type: str
    config: dict[str, Any] = field(default_factory=dict)
    description: str | None = None

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "type": self.type,
            self.type: copy.deepcopy(self.config),
        }

    def option(self, name: str | None = None, option_id: str | None = None) -> Any:
        for option in self.config.get("options", []):
            if (name is not None and option["name"] == name) or (
                option_id is not None and option["id"] == option_id
            ):
                return option
        return None


def _plain(rich_text: list[dict[str, Any]] | None) -> str:
    return "".join(item.get("plain_text", "") for item in rich_text or [])


def _find_property(properties: list[_Property], key: Any) -> _Property | None:
    """A property by name, else by id (ids compared with and without percent-encoding)."""
    if not isinstance(key, str):
        return None
    for candidate in properties:
        if candidate.name == key:
            return candidate
    for candidate in properties:
        if key == candidate.id or unquote(key) == unquote(candidate.id):
            return candidate
    return None


@dataclass
class _DataSource:
    id: str
    database_id: str
    title: list[dict[str, Any]]
    properties: list[_Property]
    created: datetime
    edited: datetime
    in_trash: bool = False

    def prop(self, key: Any) -> _Property | None:
        return _find_property(self.properties, key)

    @property
    def name(self) -> str:
        return _plain(self.title)


@dataclass
class _Database:
    id: str
    parent_page_id: str
    title: list[dict[str, Any]]
    data_source_ids: list[str]
    created: datetime
    edited: datetime
    is_inline: bool = False
    in_trash: bool = False


@dataclass
class _Page:
    id: str
    seq: int
    data_source_id: str | None  # None: a plain page (a parent page)
    parent_page_id: str | None  # a plain page's parent page, None for the workspace
    values: dict[str, Any]  # property id -> stored value
    created: datetime
    edited: datetime
    created_by: str = BOT_USER_ID
    edited_by: str = BOT_USER_ID
    in_trash: bool = False


class _Effects:
    """Select options a write adds to the schema, applied once the whole write is valid."""

    def __init__(self) -> None:
        self.options: list[tuple[_Property, dict[str, Any]]] = []

    def pending(self, prop: _Property, name: str) -> dict[str, Any] | None:
        return next((o for p, o in self.options if p is prop and o["name"] == name), None)

    def commit(self) -> None:
        for prop, option in self.options:
            if prop.option(name=option["name"]) is None:
                prop.config.setdefault("options", []).append(option)
