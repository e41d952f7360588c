"""A loopback Notion for tests: the public API, version 2025-09-03, over real HTTP, for the real
notion-client.

Usage::

    with NotionEmulator(token="secret_TEST") as n:
        parent = n.create_page_parent("CAE")
        database_id, data_source_id = n.create_database(
            parent, "Membres", {"Nom": {"title": {}}, "Clé": {"rich_text": {}}}
        )
        notion = Client(auth="secret_TEST", base_url=n.url)  # it calls {base_url}/v1/...
        notion.data_sources.query(data_source_id=data_source_id, page_size=100)
        assert n.count(operation="query") == 1

What it serves, as Notion does where this project relies on it (API version 2025-09-03, where a
database holds data sources and pages live in a data source):

- databases: create under a parent page with ``initial_data_source.properties``, retrieve (with
  ``data_sources: [{"id", "name"}]``), update (title, ``in_trash``).
- data sources: create (a second one in a database), retrieve (``properties``: the schema, each
  with ``id``, ``name``, ``type`` and its configuration), update (add, rename, remove
  properties; add select options; title), query with ``page_size`` ≤ 100 (default 100),
  ``start_cursor``/``next_cursor``/``has_more``, ``filter`` (property filters on title,
  rich_text, email, url, phone_number, number, select, multi_select, date, checkbox, relation,
  created_time, last_edited_time; ``timestamp`` filters; ``and``/``or`` two levels deep),
  ``sorts`` (property or timestamp), ``filter_properties`` (query string), ``in_trash``.
- pages: create (parent ``data_source_id``, ``database_id`` of a one-source database, or
  ``page_id``), retrieve (``filter_properties``), update (properties, ``in_trash``/``archived``),
  retrieve a property item (relations, titles and texts paginated ≤ 100 a page, the rest as one
  item). A page shows at most 25 relation entries inline, then ``"has_more": true``.
- property types: title, rich_text, number, select, multi_select, date, checkbox, email, url,
  phone_number, relation (``single_property`` only), created_time, last_edited_time. Values are
  checked against the schema; an unknown select option is created, as Notion does.
- users/me (the bot user).
- limits: a token bucket (``burst`` requests at once, refilled at ``rate`` a second: Notion's
  "3 requests a second on average"); when empty, 429 ``rate_limited`` with ``Retry-After``.
  Rich text content ≤ 2,000 characters, arrays (rich text, relations) ≤ 100 items a request.
- test hooks: fault injection (status, slow answer, dropped connection), a log of every request
  with counting helpers, direct state helpers that bypass the limit and the log, a clock that
  can be moved forward, webhook deliveries (verification token, signed events), and
  ``unshare`` (a database the integration no longer reaches: 404 for it and all it holds).

Timestamps (``created_time``, ``last_edited_time``) are rounded down to the minute, as Notion
sends them, and timestamp filters see the rounded value.

Errors, always ``{"object": "error", "status", "code", "message", "request_id"}``, in the order
they are checked; (?) marks a message or choice that is a best guess:

- no ``Notion-Version`` header: 400 ``missing_version``; a version other than 2025-09-03: 400
  ``validation_error`` (?)
- no or wrong bearer token: 401 ``unauthorized`` "API token is invalid."
- bucket empty: 429 ``rate_limited`` with ``Retry-After: <seconds>``
- undefined route or method (including the pre-2025 ``POST /v1/databases/{id}/query``): 400
  ``invalid_request_url``
- body not JSON: 400 ``invalid_json``
- malformed id in the path or body: 400 ``validation_error`` ("path failed validation: …")
- unknown page, database, data source, property: 404 ``object_not_found`` "Could not find page
  with ID: …" (the wording for data sources and properties (?))
- unknown property name on write: 400 ``validation_error`` "<name> is not a property that
  exists."; a value of another type: "<name> is expected to be <type>."; a malformed value:
  "body failed validation: body.properties.<name>.<type> should be …"; a select name with a
  comma: "Invalid select option, commas not allowed: …" (?)
- editing a page in the trash: 400 ``validation_error`` "Can't edit block that is archived. You
  must unarchive the block before editing."
- filters: unknown property "Could not find property with name or id: …"; a filter of another
  type "database property <type> does not match filter <key>" (?); sorts "Could not find sort
  property with name or id: …" (?)
- a bad ``start_cursor``: 400 ``validation_error`` (?)
- injected faults: the status asked for with its code (500 ``internal_server_error``, 503
  ``service_unavailable``, 504 ``gateway_timeout``, 409 ``conflict_error``, …); a status
  with no documented Notion code (502, 529, …) answers an HTML page, as the gateway in front of
  Notion does, so clients see no JSON error (``code=`` overrides).

notion-client 3.1 (``Client(auth=…, base_url=n.url, retry=…)``) retries 429 for every method and
500/503 for GET and DELETE only, at most ``RetryOptions.max_retries`` (2) times, waiting
``Retry-After`` (integer seconds or an HTTP date, capped at ``max_retry_delay_ms``) or else an
exponential back-off from ``initial_retry_delay_ms`` (1 s); ``retry=False`` turns it off. It
does not retry 502, 504, timeouts or dropped connections, and a code it does not know
(``missing_version``, ``database_connection_unavailable``) becomes an
``UnknownHTTPResponseError``, never retried.

Best guesses, where the documentation is silent: without ``sorts`` a query returns the newest
pages first; text ``equals`` is exact while ``contains``/``starts_with``/``ends_with`` ignore
case; a date filter compares days when either side has no time, instants otherwise (in UTC);
empty values sort last in both directions; ``start_cursor`` is the id of the next page, so a
cursor whose page left the results (edited out of the filter, trashed) is refused.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import functools
import hashlib
import hmac
import json
import math
import random
import re
import string
import time
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote, unquote

from emulators.loopback import Call, Fault, LoopbackEmulator, Outcome, post_webhook

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

# ---- errors -------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: status, Notion's code and message (and extra headers, for 429)."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "object": "error",
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        }


def _validation(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def _shown(value: Any) -> str:
    if value is None:
        return "undefined"
    with contextlib.suppress(TypeError, ValueError):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _invalid(path: str, expectation: str, value: Any) -> ApiError:
    return _validation(
        f"body failed validation: {path} should be {expectation}, instead was `{_shown(value)}`."
    )


def _not_found(kind: str, object_id: str, hint: str = "") -> ApiError:
    message = (
        f"Could not find {kind} with ID: {object_id}. Make sure the relevant pages and "
        "databases are shared with your integration."
    )
    return ApiError(404, "object_not_found", message + hint)


def _gateway_page(status: int) -> bytes:
    """What the gateway in front of Notion answers on its own: HTML, no Notion error JSON."""
    reason = {502: "Bad Gateway", 529: "Site is overloaded"}.get(status, "Error")
    line = f"{status} {reason}"
    return (
        f"<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n"
        f"<center><h1>{line}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode("ascii")


def _retry_after_header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


# ---- the log ------------------------------------------------------------------------------


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


# ---- small helpers ------------------------------------------------------------------------


def _iso_minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00.000Z")


def _iso_ms(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _canonical_id(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    compact = raw.replace("-", "")
    if not HEX_ID.match(compact):
        return None
    return str(uuid.UUID(compact))


def _path_id(raw: str | None, name: str) -> str:
    found = _canonical_id(raw)
    if found is None:
        raise _validation(
            f"path failed validation: path.{name} should be a valid uuid, instead was "
            f"`{_shown(raw)}`."
        )
    return found


def _body_id(raw: Any, path: str) -> str:
    found = _canonical_id(raw)
    if found is None:
        raise _invalid(path, "a valid uuid", raw)
    return found


def _plain(rich_text: list[dict[str, Any]] | None) -> str:
    return "".join(item.get("plain_text", "") for item in rich_text or [])


def _text(content: str) -> dict[str, Any]:
    return {
        "type": "text",
        "text": {"content": content, "link": None},
        "annotations": dict(ANNOTATIONS),
        "plain_text": content,
        "href": None,
    }


def _rich_text(value: Any, path: str) -> list[dict[str, Any]]:
    """Rich text as a request gives it, in the response form (text items only)."""
    if not isinstance(value, list):
        raise _invalid(path, "an array", value)
    if len(value) > MAX_ARRAY_LENGTH:
        raise _invalid(f"{path}.length", f"≤ `{MAX_ARRAY_LENGTH}`", len(value))
    items = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise _invalid(where, "an object", item)
        kind = item.get("type", "text")
        if kind != "text" or "text" not in item:
            raise _invalid(f"{where}.text", "defined (only text items are emulated)", item)
        text = item["text"]
        if not isinstance(text, dict) or not isinstance(text.get("content"), str):
            raise _invalid(f"{where}.text.content", "a string", (text or {}).get("content"))
        content = text["content"]
        if len(content) > MAX_TEXT_LENGTH:
            raise _invalid(f"{where}.text.content.length", f"≤ `{MAX_TEXT_LENGTH}`", len(content))
        link = text.get("link")
        if link is not None and not (isinstance(link, dict) and isinstance(link.get("url"), str)):
            raise _invalid(f"{where}.text.link", "an object with a url, or null", link)
        annotations = dict(ANNOTATIONS)
        if isinstance(item.get("annotations"), dict):
            annotations.update({k: v for k, v in item["annotations"].items() if k in ANNOTATIONS})
        items.append(
            {
                "type": "text",
                "text": {"content": content, "link": copy.deepcopy(link)},
                "annotations": annotations,
                "plain_text": content,
                "href": link["url"] if link else None,
            }
        )
    return items


def _object_body(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _invalid("body", "an object", body)
    return body


def _trash_flag(body: dict[str, Any], default: bool | None = None) -> bool | None:
    """``in_trash``, or its older name ``archived`` (the later one wins when both are given),
    checked as a boolean; ``default`` when the body has neither."""
    flag = default
    for key in ("in_trash", "archived"):
        if key in body:
            flag = _bool(body[key], f"body.{key}")
    return flag


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _invalid(path, "a boolean", value)
    return value


def _page_size(value: Any, path: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(path, "a number", value)
    if value < 1:
        raise _invalid(path, "≥ `1`", value)
    if value > MAX_PAGE_SIZE:
        raise _invalid(path, f"≤ `{MAX_PAGE_SIZE}`", value)
    return value


def _moment(text: Any) -> date | datetime | None:
    """A date or date-time string as a ``date`` or an aware ``datetime``; None if malformed."""
    if not isinstance(text, str):
        return None
    try:
        if DATE_ONLY.match(text):
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare_moments(left: date | datetime, right: date | datetime) -> int:
    """Compare by day when either side has no time, else by instant."""
    if isinstance(left, datetime) and isinstance(right, datetime):
        a: Any = left
        b: Any = right
    else:
        a = left.astimezone(UTC).date() if isinstance(left, datetime) else left
        b = right.astimezone(UTC).date() if isinstance(right, datetime) else right
    return (a > b) - (a < b)


def _sortable_moment(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _route(method: str, path: str) -> _Route:
    segments = path.split("/")[1:]
    if len(segments) < 2 or segments[0] != "v1" or "" in segments:
        return _Route("unknown")
    s = segments[1:]
    size = len(s)
    if s == ["databases"]:
        return _Route("create_database" if method == "POST" else "unknown")
    if size == 2 and s[0] == "databases":
        operation = {"GET": "retrieve_database", "PATCH": "update_database"}.get(method)
        return _Route(operation or "unknown", id=s[1])
    if s == ["data_sources"]:
        return _Route("create_data_source" if method == "POST" else "unknown")
    if size == 2 and s[0] == "data_sources":
        operation = {"GET": "retrieve_data_source", "PATCH": "update_data_source"}.get(method)
        return _Route(operation or "unknown", id=s[1])
    if size == 3 and s[0] == "data_sources" and s[2] == "query" and method == "POST":
        return _Route("query", id=s[1])
    if s == ["pages"]:
        return _Route("create_page" if method == "POST" else "unknown")
    if size == 2 and s[0] == "pages":
        operation = {"GET": "retrieve_page", "PATCH": "update_page"}.get(method)
        return _Route(operation or "unknown", id=s[1])
    if size == 4 and s[0] == "pages" and s[2] == "properties" and method == "GET":
        return _Route("retrieve_property", id=s[1], property_id=s[3])
    if s == ["users", "me"] and method == "GET":
        return _Route("retrieve_bot_user")
    return _Route("unknown")


# ---- the emulator -------------------------------------------------------------------------


class NotionEmulator(LoopbackEmulator[NotionRequest]):
    """The Notion API on 127.0.0.1 (random port), for the real notion-client.

    Args:
        token: the one integration token it accepts (``Authorization: Bearer <token>``).
        rate: tokens added to the bucket a second (Notion: 3 on average); ``None`` lifts the
            limit.
        burst: the bucket's capacity, and its content at start.
        retry_after: the ``Retry-After`` seconds sent with a 429 (an integer is what Notion
            sends and what notion-client understands; it ignores fractions).
        seed: makes the generated ids reproducible.

    ``url`` is the root to give notion-client: ``Client(auth=token, base_url=n.url)``.
    """

    thread_name = "notion-emulator"

    def __init__(
        self,
        token: str = "secret_TEST",
        *,
        rate: float | None = 3.0,
        burst: int = 3,
        retry_after: float = 1,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.rate = rate
        self.burst = burst
        self.retry_after = retry_after
        self._random = random.Random(seed)
        self._tokens = float(burst)
        self._refilled = time.monotonic()
        self._clock_offset = timedelta(0)
        self._seq = 0
        self._pages: dict[str, _Page] = {}
        self._databases: dict[str, _Database] = {}
        self._data_sources: dict[str, _DataSource] = {}
        self._deliveries: list[dict[str, Any]] = []
        #: Databases not shared with the integration (``unshare``): 404 for them, their data
        #: sources and their pages.
        self._unshared: set[str] = set()

    # -- direct state helpers (no log, no limit) -------------------------------------------

    def create_page_parent(self, title: str) -> str:
        """A plain page at the workspace's top level, to hold databases; return its id."""
        with self._lock:
            return self._new_page(None, None, {"title": [_text(title)]}).id

    def create_database(
        self,
        parent_page_id: str,
        title: str,
        properties: dict[str, Any],
        *,
        is_inline: bool = False,
    ) -> tuple[str, str]:
        """Create a database with one data source, ``properties`` in the API's form
        (``{"Nom": {"title": {}}, "Statut": {"select": {"options": [{"name": "Actif"}]}}}``);
        return ``(database_id, data_source_id)``."""
        with self._lock:
            parent = self._page(_body_id(parent_page_id, "parent_page_id"))
            database, source = self._new_database(
                parent.id, [_text(title)], properties, is_inline, None
            )
            return database.id, source.id

    def add_properties(self, data_source_id: str, properties: dict[str, Any]) -> None:
        """Add or change properties as ``PATCH /v1/data_sources/{id}`` does (e.g. relations
        once both data sources exist)."""
        with self._lock:
            self._update_schema(self._data_source(data_source_id), properties)

    def data_source(self, data_source_id: str) -> dict[str, Any]:
        """The data source as ``GET /v1/data_sources/{id}`` returns it."""
        with self._lock:
            return self._data_source_json(self._data_source(data_source_id))

    def database(self, database_id: str) -> dict[str, Any]:
        with self._lock:
            return self._database_json(self._database(database_id))

    def property_id(self, data_source_id: str, name: str) -> str:
        with self._lock:
            found = self._data_source(data_source_id).prop(name)
            if found is None:
                raise KeyError(name)
            return found.id

    def insert(self, data_source_id: str, properties: dict[str, Any]) -> str:
        """Add a page, ``properties`` in the API's form, as a staff member would; return its
        id."""
        with self._lock:
            source = self._data_source(data_source_id)
            effects = _Effects()
            values = self._prepare_values(source, properties, effects, "properties")
            effects.commit()
            page = self._new_page(source.id, None, values)
            page.created_by = page.edited_by = STAFF_USER_ID
            return page.id

    def update(
        self, page_id: str, properties: dict[str, Any], *, in_trash: bool | None = None
    ) -> None:
        """Change a page as a staff member would in Notion (``last_edited_time`` moves on)."""
        with self._lock:
            page = self._page(_body_id(page_id, "page_id"))
            if page.data_source_id is None:
                raise ValueError("plain pages have no properties to update here")
            source = self._data_source(page.data_source_id)
            effects = _Effects()
            values = self._prepare_values(source, properties, effects, "properties")
            effects.commit()
            page.values.update(values)
            if in_trash is not None:
                page.in_trash = in_trash
            page.edited = self._now()
            page.edited_by = STAFF_USER_ID

    def trash(self, page_id: str) -> None:
        """Move a page to the trash, as a staff member would."""
        self.update(page_id, {}, in_trash=True)

    def page(self, page_id: str) -> dict[str, Any]:
        """One page's JSON, relations in full."""
        with self._lock:
            return self._page_json(self._page(_body_id(page_id, "page_id")), full=True)

    def pages(self, data_source_id: str, *, include_trash: bool = False) -> list[dict[str, Any]]:
        """Every page of a data source, oldest first, relations in full."""
        with self._lock:
            source = self._data_source(data_source_id)
            return [
                self._page_json(p, full=True)
                for p in self._pages.values()
                if p.data_source_id == source.id and (include_trash or not p.in_trash)
            ]

    def unshare(self, database_id: str) -> None:
        """Take a database out of the integration's reach, as removing its connection in
        Notion does: the API answers 404 ``object_not_found`` for it, its data sources and
        their pages."""
        with self._lock:
            self._unshared.add(self._database(database_id).id)

    def advance(self, seconds: float) -> None:
        """Move the emulator's clock forward (timestamps only; the rate limit keeps real
        time)."""
        with self._lock:
            self._clock_offset += timedelta(seconds=seconds)

    def reset_rate_limit(self) -> None:
        """Fill the bucket."""
        with self._lock:
            self._tokens = float(self.burst)
            self._refilled = time.monotonic()

    # -- webhooks --------------------------------------------------------------------------

    def webhook_verification(self, url: str, *, timeout: float = 60.0) -> str:
        """POST the subscription's verification token to ``url``, unsigned, as Notion does
        when a webhook subscription is created; return the token."""
        with self._lock:
            alphabet = string.ascii_letters + string.digits
            token = "secret_" + "".join(self._random.choice(alphabet) for _ in range(43))
        body = json.dumps({"verification_token": token}).encode("utf-8")
        self._deliver(url, body, {"Content-Type": "application/json"}, timeout)
        return token

    def page_event(
        self,
        page_id: str,
        event_type: str = "page.properties_updated",
        *,
        updated_properties: list[str] | None = None,
    ) -> dict[str, Any]:
        """The ``type``, ``entity`` and ``data`` of an event about a page, for ``send_event``.
        Events carry ids only: ``updated_properties`` are property ids."""
        with self._lock:
            page = self._page(_body_id(page_id, "page_id"))
            if page.data_source_id is not None:
                source = self._data_sources[page.data_source_id]
                parent = {
                    "id": source.database_id,
                    "type": "database",
                    "data_source_id": source.id,
                }
            else:
                parent = {"id": page.parent_page_id or WORKSPACE_ID, "type": "page"}
            data: dict[str, Any] = {"parent": parent}
            if event_type == "page.properties_updated":
                data["updated_properties"] = list(updated_properties or [])
            return {"type": event_type, "entity": {"id": page.id, "type": "page"}, "data": data}

    def send_event(
        self, url: str, token: str, event: dict[str, Any], *, timeout: float = 60.0
    ) -> int | None:
        """POST an event to ``url`` signed with ``token`` (``X-Notion-Signature: sha256=<hex
        HMAC-SHA256 of the raw body>``); return the HTTP status, None if unreachable.

        ``event`` is completed with the envelope Notion sends (``id``, ``timestamp``,
        ``workspace_id``, ``subscription_id``, ``integration_id``, ``authors``,
        ``attempt_number``, ``api_version``); what it gives wins."""
        with self._lock:
            envelope: dict[str, Any] = {
                "id": self._new_id(),
                "timestamp": _iso_ms(self._now()),
                "workspace_id": WORKSPACE_ID,
                "workspace_name": "Emulated workspace",
                "subscription_id": SUBSCRIPTION_ID,
                "integration_id": INTEGRATION_ID,
                "authors": [{"id": STAFF_USER_ID, "type": "person"}],
                "attempt_number": 1,
                "api_version": API_VERSION,
                "type": "page.properties_updated",
                "entity": {},
                "data": {},
            }
        envelope.update(copy.deepcopy(event))
        body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-Notion-Signature": self.signature(token, body),
        }
        return self._deliver(url, body, headers, timeout)

    @staticmethod
    def signature(token: str, body: bytes) -> str:
        """The ``X-Notion-Signature`` value for a body."""
        return "sha256=" + hmac.new(token.encode("utf-8"), body, hashlib.sha256).hexdigest()

    @property
    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every webhook POST: ``{"url", "body" (bytes), "headers", "status"}``."""
        with self._lock:
            return copy.deepcopy(self._deliveries)

    def _deliver(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> int | None:
        status = post_webhook(url, body, headers, timeout)
        with self._lock:
            self._deliveries.append(
                {"url": url, "body": body, "headers": dict(headers), "status": status}
            )
        return status

    # -- faults ----------------------------------------------------------------------------

    def inject(
        self,
        status: int = 503,
        count: int = 1,
        when: Callable[[NotionRequest], bool] | None = None,
        *,
        code: str | None = None,
        message: str | None = None,
        body: Any = None,
        retry_after: float | None = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` (nothing is applied).

        The body is Notion's error JSON with ``code`` (by default the one for the status:
        400 ``validation_error``, 409 ``conflict_error``, 429 ``rate_limited``, 500
        ``internal_server_error``, 503 ``service_unavailable`` (``database_connection_unavailable``
        on request), 504 ``gateway_timeout``, …). A status with no Notion code, such as 502 or
        529, answers an HTML page unless ``code`` is given. A 429 carries ``Retry-After``
        (``retry_after``, else the emulator's); other statuses only when ``retry_after`` is
        given. ``body`` (JSON, or bytes) replaces the body."""
        headers: dict[str, str] = {}
        if status == 429 or retry_after is not None:
            seconds = self.retry_after if retry_after is None else retry_after
            headers["Retry-After"] = _retry_after_header(seconds)
        if body is None and code is None and status not in FAULT_CODES:
            body = _gateway_page(status)
        if body is None:
            kind = code or FAULT_CODES.get(status, "internal_server_error")
            body = {
                "object": "error",
                "status": status,
                "code": kind,
                "message": message or FAULT_MESSAGES.get(kind, "Injected fault."),
            }
        with self._lock:
            self._faults.append(Fault("status", count, when, status, body, headers))

    # -- counting --------------------------------------------------------------------------

    def count(
        self,
        method: str | None = None,
        operation: str | None = None,
        status: int | None = None,
        data_source: str | None = None,
        database: str | None = None,
        page: str | None = None,
    ) -> int:
        """How many logged requests match every criterion given (ids with or without
        dashes)."""
        data_source = _canonical_id(data_source) or data_source
        database = _canonical_id(database) or database
        page = _canonical_id(page) or page
        return self._count_matching(
            method=method and method.upper(),
            operation=operation,
            status=status,
            data_source=data_source,
            database=database,
            page=page,
        )

    # ---- request handling ----------------------------------------------------------------

    def _request(self, call: Call) -> tuple[NotionRequest, tuple[_Route, str]]:
        route = _route(call.method, call.path)
        request = NotionRequest(
            method=call.method,
            path=unquote(call.path),
            operation=route.operation,
            query=call.query,
            body=call.body,
            timestamp=time.time(),
        )
        self._attribute(request, route, call.body)
        return request, (route, self._new_id())

    def _answer(self, request: NotionRequest, context: tuple[_Route, str], call: Call) -> Outcome:
        route, request_id = context
        try:
            status, payload = self._dispatch(
                route, call.headers, call.query, call.body, call.body_error
            )
            if isinstance(payload, dict) and payload.get("object") == "list":
                payload["request_id"] = request_id
                request.result_count = len(payload["results"])
            outcome = Outcome(status, payload)
            self._attribute_result(request, payload)
        except ApiError as error:
            outcome = Outcome(error.status, error.body(request_id), dict(error.headers))
        except Exception:  # a bug here must fail the test loudly, not hang the client
            outcome = Outcome(
                500,
                ApiError(
                    500, "internal_server_error", "Emulator bug:\n" + traceback.format_exc()
                ).body(request_id),
            )
        return outcome

    def _dispatch(
        self,
        route: _Route,
        headers: Any,
        query: dict[str, list[str]],
        body: Any,
        body_error: bool,
    ) -> tuple[int, Any]:
        version = headers.get("Notion-Version")
        if not version:
            raise ApiError(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be "
                "defined, instead was `undefined`.",
            )
        if version != API_VERSION:
            raise _validation(
                f"Notion-Version header failed validation: the emulator speaks {API_VERSION} "
                f"only, instead was `{version}`."
            )
        if headers.get("Authorization") != f"Bearer {self.token}":
            raise ApiError(401, "unauthorized", "API token is invalid.")
        self._take_token()
        if route.operation == "unknown":
            raise ApiError(400, "invalid_request_url", "Invalid request URL.")
        if body_error:
            raise ApiError(400, "invalid_json", "Error parsing JSON body.")
        handler: Callable[[_Route, dict[str, list[str]], Any], tuple[int, Any]]
        handler = getattr(self, f"_op_{route.operation}")
        return handler(route, query, body)

    def _take_token(self) -> None:
        if self.rate is None:
            return
        moment = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (moment - self._refilled) * self.rate)
        self._refilled = moment
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return
        raise ApiError(
            429,
            "rate_limited",
            FAULT_MESSAGES["rate_limited"],
            {"Retry-After": _retry_after_header(self.retry_after)},
        )

    def _attribute(self, request: NotionRequest, route: _Route, body: Any) -> None:
        """Fill in the data source, database and page a request is about, where known."""
        object_id = _canonical_id(route.id)
        operation = route.operation
        source: _DataSource | None = None
        if operation in ("retrieve_data_source", "update_data_source", "query"):
            source = self._data_sources.get(object_id or "")
            request.data_source = object_id
        elif operation in ("retrieve_database", "update_database"):
            request.database = object_id
        elif operation in ("retrieve_page", "update_page", "retrieve_property"):
            request.page = object_id
            page = self._pages.get(object_id or "")
            if page is not None and page.data_source_id is not None:
                source = self._data_sources.get(page.data_source_id)
        elif operation == "create_page" and isinstance(body, dict):
            parent = body.get("parent") if isinstance(body.get("parent"), dict) else {}
            source = self._data_sources.get(_canonical_id(parent.get("data_source_id")) or "")
            database = self._databases.get(_canonical_id(parent.get("database_id")) or "")
            if database is not None and len(database.data_source_ids) == 1:
                source = self._data_sources.get(database.data_source_ids[0])
            if database is not None:
                request.database = database.id
        elif operation == "create_data_source" and isinstance(body, dict):
            parent = body.get("parent") if isinstance(body.get("parent"), dict) else {}
            request.database = _canonical_id(parent.get("database_id"))
        if source is not None:
            request.data_source = source.id
            request.database = source.database_id

    @staticmethod
    def _attribute_result(request: NotionRequest, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        if request.operation == "create_database":
            request.database = payload["id"]
            request.data_source = payload["data_sources"][0]["id"]
        elif request.operation == "create_data_source":
            request.data_source = payload["id"]
        elif request.operation == "create_page":
            request.page = payload["id"]

    # ---- databases and data sources ------------------------------------------------------

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

    # ---- query ---------------------------------------------------------------------------

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

    # ---- pages ---------------------------------------------------------------------------

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

    # ---- rendering -----------------------------------------------------------------------

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

    # ---- lookups -------------------------------------------------------------------------

    def _now(self) -> datetime:
        return datetime.now(UTC) + self._clock_offset

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._random.getrandbits(128), version=4))

    def _new_property_id(self, taken: set[str]) -> str:
        while True:
            raw = "".join(self._random.choice(PROPERTY_ID_CHARS) for _ in range(4))
            candidate = quote(raw, safe="~")
            if candidate != "title" and candidate not in taken:
                return candidate

    def _new_page(
        self, data_source_id: str | None, parent_page_id: str | None, values: dict[str, Any]
    ) -> _Page:
        self._seq += 1
        now = self._now()
        page = _Page(self._new_id(), self._seq, data_source_id, parent_page_id, values, now, now)
        self._pages[page.id] = page
        return page

    def _page(self, page_id: str) -> _Page:
        return self._pages[page_id]

    def _database(self, database_id: str) -> _Database:
        return self._databases[_body_id(database_id, "database_id")]

    def _data_source(self, data_source_id: str) -> _DataSource:
        return self._data_sources[_body_id(data_source_id, "data_source_id")]

    def _page_or_404(self, raw: Any) -> _Page:
        page_id = _path_id(raw, "page_id") if isinstance(raw, str) else _body_id(raw, "id")
        page = self._pages.get(page_id)
        source = self._data_sources.get(page.data_source_id or "") if page else None
        if page is None or (source is not None and source.database_id in self._unshared):
            raise _not_found("page", page_id)
        return page

    def _database_or_404(self, raw: Any) -> _Database:
        database_id = _path_id(raw, "database_id")
        database = self._databases.get(database_id)
        if database is None or database_id in self._unshared:
            hint = ""
            if database_id in self._data_sources:
                hint = " (this ID is a data source: the database is its parent.database_id)"
            raise _not_found("database", database_id, hint)
        return database

    def _data_source_or_404(self, raw: Any) -> _DataSource:
        source_id = _path_id(raw, "data_source_id")
        source = self._data_sources.get(source_id)
        if source is None or source.database_id in self._unshared:
            hint = ""
            if source_id in self._databases:
                hint = (
                    " (this ID is a database: its data sources are listed by GET "
                    "/v1/databases/{id})"
                )
            raise _not_found("data source", source_id, hint)
        return source
