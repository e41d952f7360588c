"""The emulated Airtable's limits and field types, the request log's entry, and the in-memory model
(bases, tables, fields, records, webhooks) with its small helpers."""

from __future__ import annotations

import copy
import re
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

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
#: The scope each operation needs from a personal access token; a token without it gets 403
#: (``scopes=`` narrows a token). Anything not listed needs ``webhook:manage``.
OPERATION_SCOPES = {
    **dict.fromkeys(("list", "get"), "data.records:read"),
    **dict.fromkeys(
        ("create", "update", "upsert", "replace", "delete", "update_one", "replace_one"),
        "data.records:write",
    ),
    "delete_one": "data.records:write",
    **dict.fromkeys(("bases", "schema"), "schema.bases:read"),
    **dict.fromkeys(("create_table", "create_field"), "schema.bases:write"),
}
STAFF_USER = {
    "id": "usrEmulatorStaff1",
    "email": "staff@example.invalid",
    "permissionLevel": "create",
}


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


def _iso(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _now() -> datetime:
    return datetime.now(UTC)


def _empty(value: Any) -> bool:
    return value is None or value is False or value == "" or value == [] or value == {}
