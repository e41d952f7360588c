"""A loopback Airtable for tests: the Web API over real HTTP, for the real pyairtable client.

Usage::

    with AirtableEmulator(token="patTEST", base_id="appTEST") as at:
        at.create_table("Membres", [{"name": "Nom", "type": "singleLineText"}])
        table = Api("patTEST", endpoint_url=at.url).table("appTEST", "Membres")
        table.batch_create([{"Nom": "Camille"}])
        assert at.count(method="POST", table="Membres") == 1

What it serves, as Airtable does where this project relies on it:

- records: list (GET, and POST ``listRecords``) with ``pageSize`` ≤ 100, opaque ``offset``
  (``itr…/rec…``), ``fields[]``, ``filterByFormula`` (see ``airtable_formula``), ``sort``,
  ``maxRecords``, ``view`` (each table has one "Grid view"), ``returnFieldsByFieldId``; get one
  record; create, update (PATCH), replace (PUT), upsert (``performUpsert``), delete, at most 10
  records a request; cells checked against their field's type, ``typecast`` honoured;
  empty cells omitted; linked-record fields kept in step on both sides.
- meta: base schema, create a table, create a field, list bases, whoami.
- webhooks: create, list, refresh, enable/disable, delete, payloads with a cursor (≤ 50 a page);
  every change appends a payload in Airtable's webhook format, and ``ping()`` POSTs a signed
  notification to the webhook's URL.
- limits: 5 requests a second per base; the request over it gets 429 and the base answers 429 to
  everything for ``penalty_seconds``. URLs over 16,000 characters get 414.
- test hooks: fault injection (status, slow response, dropped connection), a log of every
  request with counting helpers, and direct state helpers that bypass limits and the log.

Errors (status, body), as the real API answers or, where marked (?), as best known:

- no or wrong token: 401 ``{"error": {"type": "AUTHENTICATION_REQUIRED", "message": ...}}``
- unknown base or table: 403 ``INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND``
- undefined route, malformed record id, unknown webhook: 404 ``{"error": "NOT_FOUND"}``
- missing record on a single-record route: 404 ``MODEL_ID_NOT_FOUND`` (?)
- update of a missing record, link to a missing record: 422 ``ROW_DOES_NOT_EXIST``
- over 10 records, or malformed records: 422 ``INVALID_RECORDS`` ("…up to 10 record objects…")
- unknown field (write, ``fields[]``, sort, merge key): 422 ``UNKNOWN_FIELD_NAME``
  ``Unknown field name: "X"``
- wrong cell type, a link not given as record ids: 422 ``INVALID_VALUE_FOR_COLUMN``
- unknown select option without typecast: 422 ``INVALID_MULTIPLE_CHOICE_OPTIONS``
- bad formula: 422 ``INVALID_FILTER_BY_FORMULA``; pageSize > 100 and other bad parameters:
  422 ``INVALID_REQUEST_UNKNOWN``
- malformed offset: 422 ``INVALID_OFFSET_VALUE``; a well-formed one it no longer knows (see
  ``expire_offsets``): 422 ``LIST_RECORDS_ITERATOR_NOT_AVAILABLE``
- meta: 422 ``DUPLICATE_TABLE_NAME``, ``DUPLICATE_OR_EMPTY_FIELD_NAME``,
  ``INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE``, ``UNSUPPORTED_FIELD_TYPE_FOR_CREATE`` (?)
- rate limit: 429 ``{"errors": [{"error": "RATE_LIMIT_REACHED", "message": ...}]}``
- URL over 16,000 characters: 414 ``URL_TOO_LONG`` (?); unparsable JSON: 400
  ``INVALID_REQUEST_BODY`` (?)
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import random
import re
import string
import sys
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import unquote

from emulators.airtable_formula import (
    FormulaError,
    evaluate,
    parse,
    referenced_fields,
    truthy,
)
from emulators.loopback import Call, Fault, LoopbackEmulator, Outcome, post_webhook

MAX_PAGE_SIZE = 100
MAX_RECORDS_PER_REQUEST = 10
MAX_WEBHOOK_PAYLOADS_PER_PAGE = 50
MAX_URL_LENGTH = 16_000
WEBHOOK_LIFETIME = timedelta(days=7)

TEXT_TYPES = {"singleLineText", "multilineText", "email", "url", "phoneNumber", "richText"}
NUMBER_TYPES = {"number", "currency", "percent", "rating", "duration"}
COMPUTED_TYPES = {
    "formula",
    "rollup",
    "count",
    "lookup",
    "multipleLookupValues",
    "autoNumber",
    "createdTime",
    "lastModifiedTime",
    "createdBy",
    "lastModifiedBy",
    "button",
    "externalSyncSource",
    "aiText",
}
OTHER_TYPES = {
    "checkbox",
    "date",
    "dateTime",
    "singleSelect",
    "multipleSelects",
    "multipleRecordLinks",
    "multipleAttachments",
    "singleCollaborator",
    "multipleCollaborators",
    "barcode",
}
REQUIRED_OPTIONS = {
    "number": ("precision",),
    "percent": ("precision",),
    "currency": ("precision", "symbol"),
    "date": ("dateFormat",),
    "dateTime": ("dateFormat", "timeFormat", "timeZone"),
    "singleSelect": ("choices",),
    "multipleSelects": ("choices",),
    "checkbox": ("icon", "color"),
    "multipleRecordLinks": ("linkedTableId",),
    "rating": ("max", "icon", "color"),
}
DATE_FORMATS = {
    "local": "l",
    "friendly": "LL",
    "us": "M/D/YYYY",
    "european": "D/M/YYYY",
    "iso": "YYYY-MM-DD",
}
CHOICE_COLORS = (
    "blueLight2",
    "cyanLight2",
    "tealLight2",
    "greenLight2",
    "yellowLight2",
    "orangeLight2",
    "redLight2",
    "pinkLight2",
    "purpleLight2",
    "grayLight2",
)
RECORD_ID = re.compile(r"^rec[A-Za-z0-9]{14}$")
OFFSET = re.compile(r"^(itr[A-Za-z0-9]{14})/(rec[A-Za-z0-9]{14})$")
API_USER = {"id": "usrEmulatorApi001", "email": "api@example.invalid", "permissionLevel": "create"}
SCOPES = (
    "data.records:read",
    "data.records:write",
    "schema.bases:read",
    "schema.bases:write",
    "webhook:manage",
)
STAFF_USER = {
    "id": "usrEmulatorStaff1",
    "email": "staff@example.invalid",
    "permissionLevel": "create",
}

# ---- errors -------------------------------------------------------------------------------


class ApiError(Exception):
    """An error answer: HTTP status and JSON body, as Airtable sends them."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def _error(status: int, kind: str, message: str | None = None) -> ApiError:
    detail: dict[str, Any] = {"type": kind}
    if message is not None:
        detail["message"] = message
    return ApiError(status, {"error": detail})


def _not_found() -> ApiError:
    # An undefined route or a malformed id: Airtable answers a bare string.
    return ApiError(404, {"error": "NOT_FOUND"})


def _no_model() -> ApiError:
    # An unknown base or table (or one the token cannot see): 403, not 404, with a PAT.
    return _error(
        403,
        "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
        "Invalid permissions, or the requested model was not found. Check that both your user "
        "and your token have the required permissions, and that the model names and/or ids are "
        "correct.",
    )


def _invalid_request(detail: str | None = None) -> ApiError:
    message = "Invalid request: parameter validation failed. Check your request data."
    return _error(422, "INVALID_REQUEST_UNKNOWN", f"{message} ({detail})" if detail else message)


def _unknown_field(name: str) -> ApiError:
    return _error(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def _bad_value(field_name: str) -> ApiError:
    return _error(
        422, "INVALID_VALUE_FOR_COLUMN", f'Field "{field_name}" cannot accept the provided value'
    )


RATE_LIMITED_BODY = {
    "errors": [
        {"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded. Please try again later"}
    ]
}
#: The 429 Airtable answers to every request once the workspace has spent its monthly API calls.
QUOTA_EXCEEDED_BODY = {
    "errors": [
        {
            "error": "PUBLIC_API_BILLING_LIMIT_EXCEEDED",
            "message": "You have exceeded the monthly API call limit for this workspace.",
        }
    ]
}
FAULT_BODIES = {
    429: RATE_LIMITED_BODY,
    500: {"error": {"type": "SERVER_ERROR", "message": "Internal server error"}},
    502: {"error": {"type": "BAD_GATEWAY", "message": "Bad gateway"}},
    503: {"error": {"type": "SERVICE_UNAVAILABLE", "message": "Service unavailable"}},
    504: {"error": {"type": "GATEWAY_TIMEOUT", "message": "Gateway timeout"}},
}
CREATE_RECORDS_MESSAGE = (
    'You must provide an array of up to 10 record objects, each with a "fields" object for '
    "cell values."
)
UPDATE_RECORDS_MESSAGE = (
    'You must provide an array of up to 10 record objects, each with an "id" ID field and a '
    '"fields" object for cell values.'
)
DELETE_RECORDS_MESSAGE = "You must provide an array of up to 10 record IDs."


# ---- the log ------------------------------------------------------------------------------


@dataclass
class ApiRequest:
    """One request as the emulator saw it (the test's view of the traffic)."""

    method: str
    path: str  # decoded, without the query string
    base: str | None
    table: str | None  # the table's name, also when the URL used its id
    operation: str  # list, get, create, update, replace, upsert, delete, schema, ...
    query: dict[str, list[str]]
    body: Any
    record_count: int | None = None  # records sent (writes) or returned (list)
    status: int | None = None  # None: the connection was closed without an answer
    timestamp: float = 0.0  # time.time() on arrival


# ---- the model ----------------------------------------------------------------------------


@dataclass
class _Field:
    id: str
    name: str
    type: str
    options: dict[str, Any] | None = None
    description: str | None = None

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "name": self.name, "type": self.type}
        if self.description:
            data["description"] = self.description
        if self.options is not None:
            data["options"] = copy.deepcopy(self.options)
        return data

    def choice(self, name: str) -> dict[str, Any] | None:
        choices = (self.options or {}).get("choices", [])
        return next((c for c in choices if c["name"] == name), None)


@dataclass
class _Record:
    id: str
    created_time: str
    cells: dict[str, Any] = field(default_factory=dict)  # field id -> non-empty value


@dataclass
class _Table:
    id: str
    name: str
    description: str | None
    fields: list[_Field]
    view_id: str
    records: dict[str, _Record] = field(default_factory=dict)
    #: Records by the values of a set of merge fields (upserts), kept up to date by
    #: ``_set_cell`` and ``_delete_record``; ``None`` when a value cannot be a key.
    merge_indexes: dict[tuple[str, ...], dict[Any, list[str]] | None] = field(default_factory=dict)

    @property
    def primary(self) -> _Field:
        return self.fields[0]

    def field(self, name_or_id: str) -> _Field | None:
        return next((f for f in self.fields if name_or_id in (f.name, f.id)), None)

    def has_field_name(self, name: str) -> bool:
        return any(f.name.casefold() == name.casefold() for f in self.fields)

    def json(self, visible_field_ids: bool = False) -> dict[str, Any]:
        view: dict[str, Any] = {"id": self.view_id, "name": "Grid view", "type": "grid"}
        if visible_field_ids:
            view["visibleFieldIds"] = [f.id for f in self.fields]
        data: dict[str, Any] = {"id": self.id, "name": self.name, "primaryFieldId": self.primary.id}
        if self.description:
            data["description"] = self.description
        data["fields"] = [f.json() for f in self.fields]
        data["views"] = [view]
        return data


@dataclass
class _Webhook:
    id: str
    notification_url: str | None
    specification: dict[str, Any]
    secret: bytes
    expiration: datetime
    enabled: bool = True
    payloads: list[dict[str, Any]] = field(default_factory=list)
    last_result: dict[str, Any] | None = None
    last_success: str | None = None

    def json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "areNotificationsEnabled": self.enabled,
            "cursorForNextPayload": len(self.payloads) + 1,
            "isHookEnabled": True,
            "lastSuccessfulNotificationTime": self.last_success,
            "notificationUrl": self.notification_url,
            "lastNotificationResult": copy.deepcopy(self.last_result),
            "expirationTime": _iso(self.expiration),
            "specification": copy.deepcopy(self.specification),
        }


@dataclass
class _Base:
    id: str
    name: str
    tables: dict[str, _Table] = field(default_factory=dict)  # by id, in creation order
    webhooks: dict[str, _Webhook] = field(default_factory=dict)
    transactions: int = 0
    window: deque[float] = field(default_factory=deque)  # monotonic times of counted requests
    penalty_until: float = 0.0

    def table(self, name_or_id: str) -> _Table | None:
        if name_or_id in self.tables:
            return self.tables[name_or_id]
        return next((t for t in self.tables.values() if t.name == name_or_id), None)


@dataclass
class _Iterator:
    table_id: str
    ids: list[str]


class _Effects:
    """What typecast adds on commit: new select options and new linked records."""

    def __init__(self) -> None:
        self.choices: list[tuple[_Field, str]] = []
        self.new_links: dict[tuple[str, str], str] = {}  # (table id, primary text) -> record id


class _Transaction:
    """The changes of one write, for webhook payloads."""

    def __init__(self) -> None:
        self.created: dict[str, list[str]] = {}
        self.changed: dict[str, dict[str, dict[str, Any]]] = {}  # table -> rec -> previous cells
        self.destroyed: dict[str, list[str]] = {}

    def create(self, table: _Table, record: _Record) -> None:
        self.created.setdefault(table.id, []).append(record.id)

    def touch(self, table: _Table, record: _Record, field_id: str) -> None:
        if record.id in self.created.get(table.id, []):
            return
        previous = self.changed.setdefault(table.id, {}).setdefault(record.id, {})
        if field_id not in previous:
            previous[field_id] = copy.deepcopy(record.cells.get(field_id))

    def destroy(self, table: _Table, record_id: str) -> None:
        self.destroyed.setdefault(table.id, []).append(record_id)

    @property
    def table_ids(self) -> list[str]:
        return list(dict.fromkeys([*self.created, *self.changed, *self.destroyed]))

    def __bool__(self) -> bool:
        return bool(self.created or self.changed or self.destroyed)


@dataclass
class _ListParams:
    page_size: int = MAX_PAGE_SIZE
    offset: str | None = None
    max_records: int | None = None
    fields: list[str] | None = None
    formula: str | None = None
    sort: list[tuple[str, bool]] = field(default_factory=list)  # (field, descending)
    view: str | None = None
    by_field_id: bool = False


@dataclass
class _Route:
    operation: str
    base: str | None = None
    table: str | None = None
    record: str | None = None
    webhook: str | None = None
    replace: bool = False  # PUT: cells left out are cleared


# ---- small helpers ------------------------------------------------------------------------


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


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}


def _route(method: str, segments: list[str], body: Any) -> _Route:
    if len(segments) < 2 or segments[0] != "v0" or "" in segments:
        return _Route("unknown")
    s = segments[1:]
    if s[0] == "meta":
        return _meta_route(method, s)
    if s[0] == "bases":
        return _webhook_route(method, s)
    if len(s) == 2:
        upsert = isinstance(body, dict) and "performUpsert" in body
        operation = {
            "GET": "list",
            "POST": "create",
            "PATCH": "upsert" if upsert else "update",
            "PUT": "upsert" if upsert else "replace",
            "DELETE": "delete",
        }.get(method, "unknown")
        return _Route(operation, base=s[0], table=s[1], replace=method == "PUT")
    if len(s) == 3 and s[2] == "listRecords":
        return _Route("list" if method == "POST" else "unknown", base=s[0], table=s[1])
    if len(s) == 3:
        operation = {
            "GET": "get",
            "PATCH": "update_one",
            "PUT": "replace_one",
            "DELETE": "delete_one",
        }.get(method, "unknown")
        return _Route(operation, base=s[0], table=s[1], record=s[2], replace=method == "PUT")
    return _Route("unknown")


def _meta_route(method: str, s: list[str]) -> _Route:
    if s == ["meta", "whoami"] and method == "GET":
        return _Route("whoami")
    if s == ["meta", "bases"] and method == "GET":
        return _Route("bases")
    if len(s) == 4 and s[1] == "bases" and s[3] == "tables":
        operation = {"GET": "schema", "POST": "create_table"}.get(method, "unknown")
        return _Route(operation, base=s[2])
    if len(s) == 6 and s[1] == "bases" and s[3] == "tables" and s[5] == "fields":
        return _Route("create_field" if method == "POST" else "unknown", base=s[2], table=s[4])
    return _Route("unknown")


def _webhook_route(method: str, s: list[str]) -> _Route:
    if len(s) < 3 or s[2] != "webhooks":
        return _Route("unknown")
    base = s[1]
    if len(s) == 3:
        operation = {"GET": "webhook_list", "POST": "webhook_create"}.get(method, "unknown")
        return _Route(operation, base=base)
    if len(s) == 4:
        return _Route(
            "webhook_delete" if method == "DELETE" else "unknown", base=base, webhook=s[3]
        )
    if len(s) == 5:
        operation = {
            ("POST", "refresh"): "webhook_refresh",
            ("GET", "payloads"): "webhook_payloads",
            ("POST", "enableNotifications"): "webhook_enable",
        }.get((method, s[4]), "unknown")
        return _Route(operation, base=base, webhook=s[3])
    return _Route("unknown")


def _int_param(value: Any, lowest: int, highest: int | None, name: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid_request(f"{name} must be an integer")
    if value < lowest or (highest is not None and value > highest):
        raise _invalid_request(f"{name} must be between {lowest} and {highest}")
    return value


def _bool_param(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    raise _invalid_request(f"{name} must be a boolean")


# ---- the emulator -------------------------------------------------------------------------


class AirtableEmulator(LoopbackEmulator[ApiRequest]):
    """An Airtable Web API on 127.0.0.1 (random port), for the real pyairtable client.

    Args:
        token: the one personal access token it accepts.
        base_id: the first base (more with ``add_base``).
        rate_limit: requests allowed per base in any one-second window; ``None`` lifts it.
        penalty_seconds: how long a base answers 429 to everything after a rate-limit 429.
        seed: makes the generated ids reproducible.

    ``url`` is the endpoint to give pyairtable: ``Api(token, endpoint_url=at.url)``.
    """

    thread_name = "airtable-emulator"

    def __init__(
        self,
        token: str = "patTEST",
        base_id: str = "appTEST",
        *,
        rate_limit: int | None = 5,
        penalty_seconds: float = 30.0,
        base_name: str | None = None,
        seed: int | None = None,
    ) -> None:
        super().__init__()
        self.token = token
        self.base_id = base_id
        self.rate_limit = rate_limit
        self.penalty_seconds = penalty_seconds
        self._random = random.Random(seed)
        self._bases: dict[str, _Base] = {}
        self._iterators: dict[str, _Iterator] = {}
        self.add_base(base_id, base_name)

    # -- direct state helpers (no log, no limits) ------------------------------------------

    def add_base(self, base_id: str, name: str | None = None) -> None:
        with self._lock:
            self._bases.setdefault(base_id, _Base(base_id, name or base_id))

    def create_table(
        self,
        name: str,
        fields: list[dict[str, Any]],
        *,
        base: str | None = None,
        description: str | None = None,
    ) -> dict[str, Any]:
        """Create a table as the Meta API would, and return its JSON.

        Unlike the API, ``options.linkedTableId`` may name a table, this one included.
        """
        with self._lock:
            target = self._base(base)
            table_id = self._new_id("tbl")
            resolved = []
            for spec in fields:
                linked = (spec.get("options") or {}).get("linkedTableId")
                if spec.get("type") == "multipleRecordLinks" and linked is not None:
                    other = target.table(linked)
                    linked_id = table_id if linked == name else (other.id if other else linked)
                    spec = {**spec, "options": {**spec["options"], "linkedTableId": linked_id}}
                resolved.append(spec)
            body = {"name": name, "fields": resolved}
            if description:
                body["description"] = description
            return self._create_table(target, body, table_id)

    def table_id(self, table: str, *, base: str | None = None) -> str:
        with self._lock:
            return self._table(self._base(base), table).id

    def field_id(self, table: str, field_name: str, *, base: str | None = None) -> str:
        with self._lock:
            found = self._table(self._base(base), table).field(field_name)
            if found is None:
                raise KeyError(field_name)
            return found.id

    def schema(self, *, base: str | None = None) -> dict[str, Any]:
        """The base schema, as ``GET /v0/meta/bases/{base}/tables`` returns it."""
        with self._lock:
            return {"tables": [t.json() for t in self._base(base).tables.values()]}

    def records(self, table: str, *, base: str | None = None) -> list[dict[str, Any]]:
        """Every record of a table: ``{"id", "createdTime", "fields"}``, fields by name."""
        with self._lock:
            target = self._table(self._base(base), table)
            return [self._render(target, r) for r in target.records.values()]

    def insert(
        self,
        table: str,
        fields: dict[str, Any],
        *,
        base: str | None = None,
        typecast: bool = False,
    ) -> str:
        """Add a record (as a staff member would in the UI); return its id."""
        with self._lock:
            target_base = self._base(base)
            target = self._table(target_base, table)
            effects = _Effects()
            cells = self._prepare_cells(target_base, target, fields, typecast, effects)
            txn = _Transaction()
            self._commit_effects(target_base, effects, txn)
            record = self._create_record(target_base, target, cells, txn)
            self._publish(target_base, txn, "client")
            return record.id

    def insert_many(
        self, table: str, rows: list[dict[str, Any]], *, base: str | None = None
    ) -> list[str]:
        """Add many records at once, as a bulk import would; return their ids in order.

        Cells are checked as ``insert`` checks them (no typecast: links are record ids), and
        linked records get the new ids in their inverse fields, but no webhook payload is made.
        Built for loading hundreds of thousands of records (benchmarks): the inverse links are
        appended in place rather than copied for each record.
        """
        with self._lock:
            target_base = self._base(base)
            target = self._table(target_base, table)
            by_name = {f.name: f for f in target.fields}
            ids = []
            for fields in rows:
                effects = _Effects()
                cells: dict[str, Any] = {}
                for name, value in fields.items():
                    cell_field = by_name.get(name)
                    if cell_field is None:
                        raise _unknown_field(name)
                    cells[cell_field.id] = self._coerce(
                        target_base, cell_field, value, False, effects
                    )
                record = _Record(self._new_id("rec"), _iso(_now()))
                target.records[record.id] = record
                for field_id, value in cells.items():
                    if value is None:
                        continue
                    record.cells[field_id] = value
                    cell_field = target.field(field_id)
                    assert cell_field is not None
                    inverse_id = (cell_field.options or {}).get("inverseLinkFieldId")
                    if cell_field.type != "multipleRecordLinks" or inverse_id is None:
                        continue
                    other = target_base.tables[cell_field.options["linkedTableId"]]  # type: ignore[index]
                    for linked_id in value:
                        other.records[linked_id].cells.setdefault(inverse_id, []).append(record.id)
                ids.append(record.id)
            target.merge_indexes.clear()  # built again from the records on the next upsert
            return ids

    def change_record(
        self,
        table: str,
        record_id: str,
        fields: dict[str, Any],
        *,
        base: str | None = None,
        typecast: bool = False,
    ) -> None:
        """Change cells of a record as a staff member would (a webhook payload follows)."""
        with self._lock:
            target_base = self._base(base)
            target = self._table(target_base, table)
            record = target.records[record_id]
            effects = _Effects()
            cells = self._prepare_cells(target_base, target, fields, typecast, effects)
            txn = _Transaction()
            self._commit_effects(target_base, effects, txn)
            self._update_record(target_base, target, record, cells, False, txn)
            self._publish(target_base, txn, "client")

    def delete(self, table: str, record_id: str, *, base: str | None = None) -> None:
        """Delete a record as a staff member would."""
        with self._lock:
            target_base = self._base(base)
            target = self._table(target_base, table)
            txn = _Transaction()
            self._delete_record(target_base, target, record_id, txn)
            self._publish(target_base, txn, "client")

    def expire_offsets(self) -> None:
        """Forget every list iterator, as Airtable does after a while: the next page asked for
        gets 422 LIST_RECORDS_ITERATOR_NOT_AVAILABLE."""
        with self._lock:
            self._iterators.clear()

    def reset_rate_limit(self, *, base: str | None = None) -> None:
        """Lift a base's 429 penalty and forget its recent requests."""
        with self._lock:
            target = self._base(base)
            target.window.clear()
            target.penalty_until = 0.0

    # -- webhooks --------------------------------------------------------------------------

    def webhooks(self, *, base: str | None = None) -> list[dict[str, Any]]:
        """Each webhook as ``GET …/webhooks`` lists it, plus its ``macSecretBase64``."""
        with self._lock:
            return [
                {**w.json(), "macSecretBase64": base64.b64encode(w.secret).decode("ascii")}
                for w in self._base(base).webhooks.values()
            ]

    def payloads(self, webhook_id: str, *, base: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._webhook(self._base(base), webhook_id).payloads)

    def ping(
        self, webhook_id: str, *, base: str | None = None, timeout: float = 60.0
    ) -> int | None:
        """POST a signed notification to the webhook's URL; return the HTTP status (None if
        unreachable or nothing was sent because notifications are off or there is no URL)."""
        with self._lock:
            target = self._base(base)
            hook = self._webhook(target, webhook_id)
            if not hook.enabled or not hook.notification_url:
                return None
            sent_at = _now()
            body = json.dumps(
                {"base": {"id": target.id}, "webhook": {"id": hook.id}, "timestamp": _iso(sent_at)}
            ).encode("ascii")
            mac = hmac.new(hook.secret, body, hashlib.sha256).hexdigest()
            url = hook.notification_url
        headers = {
            "Content-Type": "application/json",
            "X-Airtable-Content-MAC": f"hmac-sha256={mac}",
        }
        status = post_webhook(url, body, headers, timeout)
        finished = _now()
        with self._lock:
            success = status is not None and 200 <= status < 300
            hook.last_result = {
                "success": success,
                "completionTimestamp": _iso(finished),
                "durationMs": (finished - sent_at).total_seconds() * 1000,
                "retryNumber": 0,
            }
            if success:
                hook.last_success = _iso(finished)
            else:
                reason = f"HTTP status {status}" if status else "the URL could not be reached"
                hook.last_result["error"] = {"message": reason}
        return status

    # -- faults ----------------------------------------------------------------------------

    def inject(
        self,
        status: int = 503,
        count: int = 1,
        when: Callable[[ApiRequest], bool] | None = None,
        body: Any = None,
    ) -> None:
        """Answer the next ``count`` matching requests with ``status`` (nothing is applied)."""
        default = FAULT_BODIES.get(
            status, {"error": {"type": "INJECTED_FAULT", "message": "Injected"}}
        )
        with self._lock:
            self._faults.append(
                Fault("status", count, when, status=status, body=default if body is None else body)
            )

    def exceed_monthly_quota(self, after: int = 0) -> None:
        """The workspace's monthly API calls run out after ``after`` more requests: every
        request after those is answered 429 ``PUBLIC_API_BILLING_LIMIT_EXCEEDED`` (nothing is
        applied) until ``clear_faults``."""
        served = itertools.count()

        def spent(request: ApiRequest) -> bool:
            return next(served) >= after

        self.inject(429, count=sys.maxsize, when=spent, body=QUOTA_EXCEEDED_BODY)

    def writes(self) -> int:
        """How many logged requests could change the base: any but GET and listRecords."""
        with self._lock:
            return sum(1 for r in self._log if r.method != "GET" and r.operation != "list")

    # -- counting --------------------------------------------------------------------------

    def count(
        self,
        method: str | None = None,
        table: str | None = None,
        status: int | None = None,
        operation: str | None = None,
        base: str | None = None,
    ) -> int:
        """How many logged requests match every criterion given."""
        return self._count_matching(
            method=method and method.upper(),
            table=table,
            status=status,
            operation=operation,
            base=base,
        )

    # ---- request handling ----------------------------------------------------------------

    def _request(self, call: Call) -> tuple[ApiRequest, _Route]:
        segments = [unquote(s) for s in call.path.split("/")[1:]]
        route = _route(call.method, segments, call.body)
        request = ApiRequest(
            method=call.method,
            path=unquote(call.path),
            base=route.base,
            table=self._table_label(route, call.body),
            operation=route.operation,
            query=call.query,
            body=call.body,
            record_count=_sent_records(route.operation, call.body, call.query),
            timestamp=time.time(),
        )
        return request, route

    def _answer(self, request: ApiRequest, route: _Route, call: Call) -> Outcome:
        try:
            if len(self._url or "") + len(call.target) > MAX_URL_LENGTH:
                raise _error(414, "URL_TOO_LONG", "The URL exceeds 16,000 characters")
            if call.body_error:
                raise _error(400, "INVALID_REQUEST_BODY", "Could not parse request body")
            status, payload = self._dispatch(route, call.headers, call.query, call.body)
        except ApiError as error:
            status, payload = error.status, error.body
        except Exception:  # a bug here must fail the test loudly, not hang the client
            status, payload = (
                500,
                {"error": {"type": "EMULATOR_BUG", "message": traceback.format_exc()}},
            )
        if route.operation == "list" and status == 200:
            request.record_count = len(payload["records"])
        return Outcome(status, payload)

    def _table_label(self, route: _Route, body: Any) -> str | None:
        if route.operation == "create_table" and isinstance(body, dict):
            name = body.get("name")
            return name if isinstance(name, str) else None
        if route.table is None:
            return None
        base = self._bases.get(route.base or "")
        table = base.table(route.table) if base else None
        return table.name if table else route.table

    def _dispatch(
        self, route: _Route, headers: Any, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if route.operation == "unknown":
            raise _not_found()
        if headers.get("Authorization") != f"Bearer {self.token}":
            raise _error(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        if route.operation == "whoami":
            return 200, {"id": API_USER["id"], "scopes": list(SCOPES)}
        if route.operation == "bases":
            return 200, {
                "bases": [
                    {"id": b.id, "name": b.name, "permissionLevel": "create"}
                    for b in self._bases.values()
                ]
            }
        base = self._bases.get(route.base or "")
        if base is None:
            raise _no_model()
        self._count_against_limit(base)
        handler: Callable[[_Base, _Route, dict[str, list[str]], Any], tuple[int, Any]]
        handler = getattr(self, f"_op_{route.operation}")
        return handler(base, route, query, body)

    def _count_against_limit(self, base: _Base) -> None:
        if self.rate_limit is None:
            return
        moment = time.monotonic()
        if moment < base.penalty_until:
            raise ApiError(429, copy.deepcopy(RATE_LIMITED_BODY))
        while base.window and base.window[0] <= moment - 1.0:
            base.window.popleft()
        if len(base.window) >= self.rate_limit:
            base.penalty_until = moment + self.penalty_seconds
            base.window.clear()  # the penalty outlasts the window: a fresh start after it
            raise ApiError(429, copy.deepcopy(RATE_LIMITED_BODY))
        base.window.append(moment)

    # ---- records: read -------------------------------------------------------------------

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

    # ---- records: write ------------------------------------------------------------------

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

    # ---- cells ---------------------------------------------------------------------------

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

    # ---- meta ----------------------------------------------------------------------------

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

    # ---- webhooks (API) ------------------------------------------------------------------

    def _op_webhook_create(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if not isinstance(body, dict) or set(body) - {"notificationUrl", "specification"}:
            raise _invalid_request("a webhook takes notificationUrl and specification")
        spec = body.get("specification")
        filters = spec.get("options", {}).get("filters") if isinstance(spec, dict) else None
        if not isinstance(filters, dict) or not filters.get("dataTypes"):
            raise _invalid_request("specification.options.filters.dataTypes is required")
        hook = _Webhook(
            id=self._new_id("ach"),
            notification_url=body.get("notificationUrl"),
            specification=copy.deepcopy(spec),
            secret=self._random.randbytes(32),
            expiration=_now() + WEBHOOK_LIFETIME,
        )
        base.webhooks[hook.id] = hook
        return 200, {
            "id": hook.id,
            "macSecretBase64": base64.b64encode(hook.secret).decode("ascii"),
            "expirationTime": _iso(hook.expiration),
        }

    def _op_webhook_list(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        return 200, {"webhooks": [w.json() for w in base.webhooks.values()]}

    def _op_webhook_delete(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        self._api_webhook(base, route)
        del base.webhooks[route.webhook or ""]
        return 200, {}

    def _op_webhook_refresh(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        hook = self._api_webhook(base, route)
        hook.expiration = _now() + WEBHOOK_LIFETIME
        return 200, {"expirationTime": _iso(hook.expiration)}

    def _op_webhook_enable(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        hook = self._api_webhook(base, route)
        if not isinstance(body, dict) or not isinstance(body.get("enable"), bool):
            raise _invalid_request("enable must be a boolean")
        hook.enabled = body["enable"]
        return 200, {}

    def _op_webhook_payloads(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        hook = self._api_webhook(base, route)
        if set(query) - {"cursor", "limit"}:
            raise _invalid_request("payloads take cursor and limit")
        cursor = _int_param(query.get("cursor", ["1"])[0], 1, None, "cursor")
        limit = _int_param(
            query.get("limit", [str(MAX_WEBHOOK_PAYLOADS_PER_PAGE)])[0],
            1,
            MAX_WEBHOOK_PAYLOADS_PER_PAGE,
            "limit",
        )
        page = hook.payloads[cursor - 1 : cursor - 1 + limit]
        following = cursor + len(page)
        return 200, {
            "cursor": following,
            "mightHaveMore": following <= len(hook.payloads),
            "payloads": copy.deepcopy(page),
        }

    def _api_webhook(self, base: _Base, route: _Route) -> _Webhook:
        hook = base.webhooks.get(route.webhook or "")
        if hook is None:
            raise _not_found()
        return hook

    def _publish(self, base: _Base, txn: _Transaction, source: str) -> None:
        """Append this change to the payloads of every webhook that watches it."""
        if not txn:
            return
        base.transactions += 1
        for hook in base.webhooks.values():
            payload = self._payload(base, txn, hook, source)
            if payload is not None:
                hook.payloads.append(payload)

    def _payload(
        self, base: _Base, txn: _Transaction, hook: _Webhook, source: str
    ) -> dict[str, Any] | None:
        options = hook.specification.get("options", {})
        filters = options.get("filters", {})
        includes = options.get("includes") or {}
        if "tableData" not in filters.get("dataTypes", []):
            return None
        if filters.get("fromSources") and source not in filters["fromSources"]:
            return None
        scope = filters.get("recordChangeScope")
        change_types = set(filters.get("changeTypes") or ("add", "remove", "update"))
        watched = set(filters.get("watchDataInFieldIds") or ())
        tables: dict[str, Any] = {}
        for table_id in txn.table_ids:
            table = base.tables.get(table_id)
            if table is None or (scope and scope != table_id):
                continue
            entry: dict[str, Any] = {}
            created = txn.created.get(table_id, [])
            destroyed = set(txn.destroyed.get(table_id, []))
            if "add" in change_types and created:
                entry["createdRecordsById"] = {
                    rid: {
                        "createdTime": table.records[rid].created_time,
                        "cellValuesByFieldId": self._hook_cells(base, table, table.records[rid]),
                    }
                    for rid in created
                    if rid in table.records
                }
            changed = self._hook_changes(base, table, txn, includes, watched, destroyed)
            if "update" in change_types and changed:
                entry["changedRecordsById"] = changed
            if "remove" in change_types and destroyed:
                entry["destroyedRecordIds"] = txn.destroyed[table_id]
            if entry:
                tables[table_id] = entry
        if not tables:
            return None
        user = STAFF_USER if source == "client" else API_USER
        return {
            "timestamp": _iso(_now()),
            "baseTransactionNumber": base.transactions,
            "actionMetadata": {"source": source, "sourceMetadata": {"user": dict(user)}},
            "payloadFormat": "v0",
            "changedTablesById": tables,
        }

    def _hook_changes(
        self,
        base: _Base,
        table: _Table,
        txn: _Transaction,
        includes: dict[str, Any],
        watched: set[str],
        destroyed: set[str],
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for record_id, previous in txn.changed.get(table.id, {}).items():
            record = table.records.get(record_id)
            if (
                record is None
                or record_id in destroyed
                or (watched and not watched & set(previous))
            ):
                continue
            current = {
                fid: self._hook_value(base, table.field(fid), record.cells.get(fid))
                for fid in previous
            }
            change: dict[str, Any] = {"current": {"cellValuesByFieldId": current}}
            if includes.get("includePreviousCellValues"):
                change["previous"] = {
                    "cellValuesByFieldId": {
                        fid: self._hook_value(base, table.field(fid), value)
                        for fid, value in previous.items()
                    }
                }
            extra = includes.get("includeCellValuesInFieldIds")
            if extra:
                unchanged = {
                    fid: value
                    for fid, value in self._hook_cells(base, table, record).items()
                    if fid not in previous and (extra == "all" or fid in extra)
                }
                change["unchanged"] = {"cellValuesByFieldId": unchanged}
            changes[record_id] = change
        return changes

    def _hook_cells(self, base: _Base, table: _Table, record: _Record) -> dict[str, Any]:
        return {
            f.id: self._hook_value(base, f, record.cells[f.id])
            for f in table.fields
            if not _empty(record.cells.get(f.id))
        }

    def _hook_value(self, base: _Base, cell_field: _Field | None, value: Any) -> Any:
        """A cell in the webhook format: selects and links become objects with a name."""
        if value is None or cell_field is None:
            return copy.deepcopy(value)
        if cell_field.type == "singleSelect":
            return copy.deepcopy(cell_field.choice(value))
        if cell_field.type == "multipleSelects":
            return [copy.deepcopy(cell_field.choice(v)) for v in value]
        if cell_field.type == "multipleRecordLinks":
            linked = base.tables[cell_field.options["linkedTableId"]]  # type: ignore[index]
            return [
                {"id": i, "name": self._primary_text(base, linked, linked.records[i])}
                for i in value
                if i in linked.records
            ]
        return copy.deepcopy(value)

    # ---- lookups -------------------------------------------------------------------------

    def _base(self, base_id: str | None) -> _Base:
        return self._bases[base_id or self.base_id]

    @staticmethod
    def _table(base: _Base, name_or_id: str) -> _Table:
        table = base.table(name_or_id)
        if table is None:
            raise KeyError(f"no table {name_or_id!r} in {base.id}")
        return table

    def _webhook(self, base: _Base, webhook_id: str) -> _Webhook:
        return base.webhooks[webhook_id]

    def _new_id(self, prefix: str) -> str:
        alphabet = string.ascii_letters + string.digits
        return prefix + "".join(self._random.choice(alphabet) for _ in range(14))


def _sent_records(operation: str, body: Any, query: dict[str, list[str]]) -> int | None:
    if operation in ("create", "update", "replace", "upsert") and isinstance(body, dict):
        records = body.get("records")
        if isinstance(records, list):
            return len(records)
        return 1 if "fields" in body else 0
    if operation in ("update_one", "replace_one", "delete_one"):
        return 1
    if operation == "delete":
        return len(query.get("records[]", []) + query.get("records", []))
    return None


def _write_options(body: Any, allowed: set[str]) -> dict[str, bool]:
    if not isinstance(body, dict):
        raise _invalid_request("the body must be a JSON object")
    unknown = set(body) - allowed - {"typecast", "returnFieldsByFieldId"}
    if unknown:
        raise _invalid_request(f"unknown parameter {sorted(unknown)[0]}")
    typecast = body.get("typecast", False)
    by_id = body.get("returnFieldsByFieldId", False)
    return {
        "typecast": _bool_param(typecast, "typecast"),
        "by_field_id": _bool_param(by_id, "returnFieldsByFieldId"),
    }


_LIST_QUERY_KEYS = {
    "pageSize",
    "offset",
    "maxRecords",
    "fields[]",
    "fields",
    "filterByFormula",
    "view",
    "cellFormat",
    "timeZone",
    "userLocale",
    "returnFieldsByFieldId",
    "recordMetadata[]",
}
_SORT_KEY = re.compile(r"^sort\[(\d+)\]\[(field|direction)\]$")


def _list_params_from_query(query: dict[str, list[str]]) -> _ListParams:
    for key in query:
        if key not in _LIST_QUERY_KEYS and not _SORT_KEY.match(key):
            raise _invalid_request(f"unknown parameter {key}")
    sorts: dict[int, dict[str, str]] = {}
    for key, values in query.items():
        match = _SORT_KEY.match(key)
        if match:
            sorts.setdefault(int(match.group(1)), {})[match.group(2)] = values[0]
    raw: dict[str, Any] = {key: values[0] for key, values in query.items() if len(values) == 1}
    if "fields[]" in query or "fields" in query:
        raw["fields"] = query.get("fields[]", []) + query.get("fields", [])
    raw["sort"] = [sorts[i] for i in sorted(sorts)]
    return _list_params(raw)


def _list_params_from_body(body: Any, query: dict[str, list[str]]) -> _ListParams:
    allowed = {
        "pageSize",
        "offset",
        "maxRecords",
        "fields",
        "filterByFormula",
        "sort",
        "view",
        "cellFormat",
        "timeZone",
        "userLocale",
        "returnFieldsByFieldId",
        "recordMetadata",
    }
    if not isinstance(body, dict) or set(body) - allowed:
        raise _invalid_request("unknown parameter in the body")
    if set(query) - {"timeZone", "userLocale"}:
        raise _invalid_request("listRecords takes its parameters in the body")
    if "pageSize" in body and (
        isinstance(body["pageSize"], bool) or not isinstance(body["pageSize"], int)
    ):
        raise _invalid_request("pageSize must be an integer")
    if "fields" in body and (
        not isinstance(body["fields"], list) or any(not isinstance(f, str) for f in body["fields"])
    ):
        raise _invalid_request("fields must be a list of field names")
    return _list_params(dict(body))


def _list_params(raw: dict[str, Any]) -> _ListParams:
    params = _ListParams()
    if "pageSize" in raw:
        params.page_size = _int_param(raw["pageSize"], 1, MAX_PAGE_SIZE, "pageSize")
    if "maxRecords" in raw:
        params.max_records = _int_param(raw["maxRecords"], 1, None, "maxRecords")
    if raw.get("offset") not in (None, ""):
        params.offset = str(raw["offset"])
    if "fields" in raw:
        params.fields = list(raw["fields"])
    if raw.get("filterByFormula"):
        params.formula = str(raw["filterByFormula"])
    if raw.get("view"):
        params.view = str(raw["view"])
    if raw.get("cellFormat", "json") != "json":
        raise _invalid_request("cellFormat=string is not emulated")
    if "returnFieldsByFieldId" in raw:
        params.by_field_id = _bool_param(raw["returnFieldsByFieldId"], "returnFieldsByFieldId")
    sort = raw.get("sort") or []
    if not isinstance(sort, list):
        raise _invalid_request("sort must be a list")
    for item in sort:
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            raise _invalid_request("each sort needs a field")
        direction = item.get("direction", "asc")
        if direction not in ("asc", "desc"):
            raise _invalid_request("sort direction is asc or desc")
        params.sort.append((item["field"], direction == "desc"))
    return params
