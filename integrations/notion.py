"""Notion as the cooperative's source of truth, spoken to with notion-client within its limits.

Each table of DATA-MODEL.md is a Notion database. With the API version used here (2025-09-03) a
database holds data sources and the records are the pages of its data source, queried 100 a
request. The ids come from ``cae.toml``; the data source ids are optional (without one, a
table costs one more request, to ask its database):

.. code-block:: toml

    [notion.databases]       # by table key, as ``cae notion init`` prints them
    members = "…"
    [notion.data_sources]
    members = "…"

Notion allows about 3 requests a second on average and answers a 429 with ``Retry-After``.
notion-client's own retry is turned off (``retry=False``): it retries a 429 twice only, 5xx for
GET only, and neither 529 nor a dropped connection. ``NotionTransport`` replaces it, under the
client: a token bucket shared by every client of one token in the process spaces the requests,
a 429 silences them all for ``Retry-After``, and 409, 5xx, 529, timeouts and dropped connections
are retried — for every request that is harmless to repeat. Creating a page (or a database) is
not: it is sent again by the transport only after a 429 or a connection never made; otherwise
``NotionClient.create_page`` first looks the page up by its title and creates it again only when
it is not there.

    >>> client = NotionClient(NotionSettings.from_environment(config.notion))  # doctest: +SKIP
    >>> tables = NotionSource(client).read(Schema.default())                  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from notion_client import APIErrorCode, APIResponseError, Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from charter.scope import Scope, ScopeKind
from integrations.airtable import cell_value as typed_value
from integrations.base import DataError, SourceRecord, SourceTables
from integrations.cells import build_record, missing_required_fields
from settings.schema import UNNAMED_TABLES, FieldSpec, FieldType, Schema, TableSpec

API_VERSION = "2025-09-03"
BASE_URL = "https://api.notion.com"
REQUESTS_PER_SECOND = 3.0
PAGE_SIZE = 100  # pages a query answers, at most
RELATION_PAGE_SIZE = 100  # relation entries the property endpoint answers, at most
TEXT_CHUNK = 2000  # characters a rich text object holds, at most
RETRYABLE = frozenset({409, 429, 500, 502, 503, 504, 529})
_CREATES = frozenset({"/v1/pages", "/v1/databases", "/v1/data_sources"})
_MISSING = frozenset({APIErrorCode.ObjectNotFound, APIErrorCode.RestrictedResource})


@dataclass(frozen=True)
class NotionSettings:
    token: str = field(repr=False)
    databases: Mapping[str, str] = field(default_factory=dict)
    data_sources: Mapping[str, str] = field(default_factory=dict)
    base_url: str = BASE_URL
    requests_per_second: float = REQUESTS_PER_SECOND
    timeout_ms: int = 60_000
    attempts: int = 8
    max_wait: float = 60.0  # the longest Retry-After honoured, in seconds

    @classmethod
    def from_environment(
        cls, notion: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None
    ) -> NotionSettings:
        """The ``[notion]`` section of ``cae.toml`` (database and data source ids by table key)
        and the token from the Prefect Secret block named by ``CAE_NOTION_TOKEN_BLOCK``, else
        ``NOTION_TOKEN``; ``NOTION_BASE_URL`` and ``CAE_NOTION_RATE`` (requests a second)."""
        env = os.environ if env is None else env
        notion = notion or {}
        block = env.get("CAE_NOTION_TOKEN_BLOCK")
        if block:
            from prefect.blocks.system import Secret

            token = str(Secret.load(block).get())  # type: ignore[union-attr]
        else:
            token = env.get("NOTION_TOKEN", "")
        if not token:
            raise ValueError(
                "Jeton Notion absent : définissez NOTION_TOKEN ou un bloc Secret Prefect "
                "nommé dans CAE_NOTION_TOKEN_BLOCK."
            )
        return cls(
            token=token,
            databases=dict(notion.get("databases", {})),
            data_sources=dict(notion.get("data_sources", {})),
            base_url=env.get("NOTION_BASE_URL", BASE_URL).rstrip("/"),
            requests_per_second=float(env.get("CAE_NOTION_RATE", REQUESTS_PER_SECOND)),
        )


class TokenBucket:
    """Notion's "3 requests a second on average", as its server counts them: ``burst``
    requests at once, then one each ``1/rate`` second.

    A request takes its token when its response comes back: the server counted it at the
    latest then, so however long the network held it, this bucket is never fuller than Notion's.
    """

    #: Tokens kept in hand, so rounding never sends a request a hair too early.
    MARGIN = 0.01

    def __init__(self, rate: float, burst: int | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1, int(rate))
        self._level = float(self.burst)
        self._at = time.monotonic()
        self._in_flight = 0
        self._resume = 0.0
        self._changed = threading.Condition()

    def _refill(self, now: float) -> None:
        self._level = min(float(self.burst), self._level + (now - self._at) * self.rate)
        self._at = now

    def acquire(self) -> None:
        """Block until one more request may go out."""
        with self._changed:
            while True:
                now = time.monotonic()
                self._refill(now)
                delay = self._resume - now
                if delay <= 0:
                    missing = 1 + self.MARGIN + self._in_flight - self._level
                    if missing <= 0:
                        self._in_flight += 1
                        return
                    delay = missing / self.rate
                self._changed.wait(delay)

    def release(self) -> None:
        """The response to a request came back (or its connection failed)."""
        with self._changed:
            self._refill(time.monotonic())
            self._level -= 1
            self._in_flight -= 1
            self._changed.notify_all()

    def pause(self, seconds: float) -> None:
        """After a 429: Notion's bucket is empty; send nothing for ``seconds``."""
        with self._changed:
            now = time.monotonic()
            self._refill(now)
            self._level = min(self._level, 0.0)
            self._resume = max(self._resume, now + seconds)
            self._changed.notify_all()


_BUCKETS: dict[tuple[str, str], TokenBucket] = {}
_BUCKETS_LOCK = threading.Lock()


def bucket_for(settings: NotionSettings) -> TokenBucket:
    """The limit is per integration token: every client of one token in this process shares
    one bucket."""
    key = (settings.base_url, hashlib.sha256(settings.token.encode()).hexdigest())
    with _BUCKETS_LOCK:
        bucket = _BUCKETS.get(key)
        if bucket is None or bucket.rate != settings.requests_per_second:
            bucket = _BUCKETS[key] = TokenBucket(settings.requests_per_second)
        return bucket


def _backoff(attempt: int) -> float:
    return float(min(2.0**attempt * 0.1, 5.0))


def _retry_after(response: httpx.Response, ceiling: float) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), at most ``ceiling``."""
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), ceiling)


class NotionTransport(httpx.HTTPTransport):
    """Throttles every request and retries what is safe to retry (module docstring)."""

    def __init__(self, settings: NotionSettings) -> None:
        super().__init__()
        self.settings = settings
        self.bucket = bucket_for(settings)
        self.rate_limited = 0  # how many 429s this client received

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        repeatable = not (request.method == "POST" and request.url.path.rstrip("/") in _CREATES)
        attempt = 0
        while True:
            attempt += 1
            self.bucket.acquire()
            try:
                response = super().handle_request(request)
            except httpx.TransportError as error:
                self.bucket.release()
                never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt >= self.settings.attempts or not (repeatable or never_sent):
                    raise
                time.sleep(_backoff(attempt))
                continue
            self.bucket.release()
            status = response.status_code
            if (
                status not in RETRYABLE
                or attempt >= self.settings.attempts
                or (status != 429 and not repeatable)
            ):
                return response
            wait = _retry_after(response, self.settings.max_wait)
            response.read()
            response.close()
            if status == 429:
                self.rate_limited += 1
                self.bucket.pause(_backoff(attempt) if wait is None else wait)
            else:
                time.sleep(_backoff(attempt) if wait is None else wait)


def outcome_unknown(error: Exception) -> bool:
    """Whether a failed request may have been applied all the same: no answer, or a server
    error after the request reached Notion."""
    if isinstance(error, httpx.TransportError | RequestTimeoutError):
        return True
    return isinstance(error, HTTPResponseError) and (error.status >= 500 or error.status == 409)


class NotionClient:
    """One notion-client ``Client`` on the throttled transport, and the calls the project makes.

    ``data_source(key)`` resolves a table's data source once; ``query`` reads every page of
    one, 100 a request; ``relation_ids`` follows a relation past the 25 entries a page shows.
    """

    def __init__(self, settings: NotionSettings) -> None:
        self.settings = settings
        self.transport = NotionTransport(settings)
        # Typed Any: notion-client's calls return "Any | Awaitable[Any]" for its two clients.
        self.api: Any = Client(
            auth=settings.token,
            base_url=settings.base_url,
            notion_version=API_VERSION,
            timeout_ms=settings.timeout_ms,
            retry=False,
            logger=logging.getLogger(__name__),
            client=httpx.Client(transport=self.transport),
        )
        self._sources: dict[str, str | None] = {}

    def data_source(self, key: str) -> str | None:
        """The data source of a table, by key: from ``[notion.data_sources]``, else the first
        of its database's (one request, once); ``None`` when the table is not configured."""
        if key not in self._sources:
            source = self.settings.data_sources.get(key)
            database = self.settings.databases.get(key)
            if not source and database:
                found = self.api.databases.retrieve(database_id=database)["data_sources"]
                source = found[0]["id"] if found else None
            self._sources[key] = source or None
        return self._sources[key]

    def query(
        self, data_source_id: str, filter: dict[str, Any] | None = None
    ) -> list[dict[str, Any]]:
        """Every page of a data source (or those ``filter`` selects): ⌈pages/100⌉ requests."""
        options: dict[str, Any] = {"data_source_id": data_source_id, "page_size": PAGE_SIZE}
        if filter is not None:
            options["filter"] = filter
        pages: list[dict[str, Any]] = []
        while True:
            answer = self.api.data_sources.query(**options)
            pages += [r for r in answer["results"] if r.get("object") == "page"]
            if not answer.get("has_more") or not answer.get("next_cursor"):
                return pages
            options["start_cursor"] = answer["next_cursor"]

    def relation_ids(self, page_id: str, property_id: str) -> list[str]:
        """Every entry of a page's relation, through the property endpoint (100 a request)."""
        ids: list[str] = []
        cursor = None
        while True:
            answer = self.api.pages.properties.retrieve(
                page_id=page_id,
                property_id=property_id,
                page_size=RELATION_PAGE_SIZE,
                start_cursor=cursor,
            )
            ids += [item["relation"]["id"] for item in answer.get("results", [])]
            cursor = answer.get("next_cursor")
            if not answer.get("has_more") or not cursor:
                return ids

    def page(self, page_id: str) -> dict[str, Any] | None:
        """One page, or ``None`` when Notion does not know it (or does not share it)."""
        try:
            return dict(self.api.pages.retrieve(page_id=page_id))
        except APIResponseError as error:
            if error.code in _MISSING:
                return None
            raise

    def create_page(
        self, data_source_id: str, properties: dict[str, Any], title_property: str
    ) -> dict[str, Any]:
        """Create a page; when Notion's answer is lost or is a server error, look for the page
        by its title (the ledger key, the record's name) before sending it again."""
        title = plain_value(properties[title_property] | {"type": "title"})
        attempt = 0
        while True:
            attempt += 1
            try:
                return dict(
                    self.api.pages.create(
                        parent={"type": "data_source_id", "data_source_id": data_source_id},
                        properties=properties,
                    )
                )
            except Exception as error:
                if not outcome_unknown(error) or attempt >= self.settings.attempts:
                    raise
            time.sleep(_backoff(attempt))
            found = self.query(
                data_source_id, {"property": title_property, "title": {"equals": title}}
            )
            if found:
                return found[0]

    def update_page(self, page_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """Set some properties of a page: one request, harmless to repeat."""
        return dict(self.api.pages.update(page_id=page_id, properties=properties))


# ---- Notion's JSON ------------------------------------------------------------------------


def plain_value(prop: Mapping[str, Any] | None) -> Any:
    """A page property's value as plain data: text, number, bool, ISO date, option name, list
    of related page ids. Formulas and rollups give the value they hold.

    >>> plain_value({"type": "select", "select": {"name": "Livrée"}})
    'Livrée'
    >>> plain_value({"type": "formula", "formula": {"type": "number", "number": 3}})
    3
    """
    if not prop:
        return None
    kind = prop.get("type")
    value = prop.get(kind) if isinstance(kind, str) else None
    if kind in ("title", "rich_text"):
        return "".join(
            part.get("plain_text") or part.get("text", {}).get("content", "")
            for part in value or []
        )
    if kind in ("select", "status"):
        return value.get("name") if value else None
    if kind in ("multi_select", "people"):
        return [item.get("name") or item.get("id") for item in value or []]
    if kind == "relation":
        return [item["id"] for item in value or []]
    if kind == "date":
        start = value.get("start") if value else None
        return start.split("T", 1)[0] if start else None  # a date with a time: its day
    if kind in ("formula", "rollup"):
        return plain_value(value)
    if kind == "array":  # a rollup showing the values of related pages
        items = [plain_value(item) for item in value or []]
        return [x for item in items for x in (item if isinstance(item, list) else [item])]
    return value  # number, checkbox, email, url, phone_number, string, boolean, timestamps


def cell_value(spec: FieldSpec, prop: Mapping[str, Any]) -> Any:
    """A typed value from a page property, by the same rules as Airtable's cells: strings go
    through ``parse_cell``, so a date, amount or email typed as text reads as in a CSV."""
    value = plain_value(prop)
    if value in (None, "", []) or (value is False and spec.type is FieldType.CHECKBOX):
        return None
    numeric = (FieldType.CURRENCY, FieldType.NUMBER, FieldType.CHECKBOX)
    if isinstance(value, int | float) and not isinstance(value, bool) and spec.type not in numeric:
        value = format(Decimal(str(value)).normalize(), "f")  # a number where text is expected
    return typed_value(spec, value)


def text(content: str) -> list[dict[str, Any]]:
    """Rich text for ``content``, in pieces of at most 2,000 characters (Notion's limit)."""
    return [
        {"type": "text", "text": {"content": content[i : i + TEXT_CHUNK]}}
        for i in range(0, len(content), TEXT_CHUNK)
    ]


def property_value(kind: str, value: Any) -> dict[str, Any]:
    """A page property to write, of Notion type ``kind``, from plain data.

    >>> property_value("relation", ["1f2e…"])
    {'relation': [{'id': '1f2e…'}]}
    """
    if kind in ("title", "rich_text"):
        return {kind: text("" if value is None else str(value))}
    if kind == "select":
        return {kind: {"name": str(value)} if value not in (None, "") else None}
    if kind == "date":
        day = value.isoformat() if isinstance(value, date) else value
        return {kind: {"start": day} if day else None}
    if kind == "relation":
        return {kind: [{"id": page_id} for page_id in value or []]}
    if kind == "number":
        return {kind: None if value in (None, "") else float(Decimal(str(value)))}
    if kind == "checkbox":
        return {kind: bool(value)}
    return {kind: value or None}  # email, url, phone_number


def page_title(page: Mapping[str, Any]) -> str:
    """The text of a page's title property, whatever its name."""
    props = page.get("properties", {})
    return next((plain_value(p) for p in props.values() if p.get("type") == "title"), "").strip()


def same_id(left: str | None, right: str | None) -> bool:
    """Notion writes ids with or without dashes."""
    if left is None or right is None:
        return False
    return left.replace("-", "") == right.replace("-", "")


# ---- the source ---------------------------------------------------------------------------


class NotionSource:
    """The cooperative's tables as Notion databases, named as in the mapping."""

    name = "notion"

    def __init__(self, client: NotionClient) -> None:
        self.client = client

    def read(self, schema: Schema, scope: Scope | None = None) -> SourceTables:
        """Every table, ⌈pages/100⌉ requests each; for a mission's targeted run, only that
        mission and its members."""
        if scope is not None and scope.kind is ScopeKind.MISSION:
            return self._read_mission(schema, scope.record_id)
        result = SourceTables()
        for spec in schema.tables.values():
            pages = self._table_pages(result, spec)
            if pages is not None:
                self._add(result, spec, pages)
        return result

    def _read_mission(self, schema: Schema, mission_id: str) -> SourceTables:
        """The mission's page (1 request), each member it links to (1 each), their sponsors
        not among them (1 each): Notion has no filter on page ids, and a mission links to a
        handful of members."""
        result = SourceTables()
        missions, members = schema.table("missions"), schema.table("members")
        mission = self._page_of(missions, mission_id)
        self._add(result, missions, [mission] if mission else [])
        linked = {
            member_id
            for record in result.tables.get("missions", [])
            for f in missions.fields
            if f.link_table == "members"
            for member_id in _ids(record.values.get(f.key))
        }
        pages = [p for p in (self._page_of(members, i) for i in sorted(linked)) if p]
        label = members.field("sponsor").label
        sponsors = {s for p in pages for s in _ids(plain_value(p["properties"].get(label)))}
        pages += [p for p in (self._page_of(members, i) for i in sorted(sponsors - linked)) if p]
        if pages:
            self._add(result, members, pages)
        return result

    def _page_of(self, spec: TableSpec, page_id: str) -> dict[str, Any] | None:
        """A page of the table ``spec``, or ``None`` when it is unknown or elsewhere."""
        page = self.client.page(page_id)
        source = self.client.data_source(spec.key)
        parent = (page or {}).get("parent", {})
        if page is None or (source and not same_id(parent.get("data_source_id"), source)):
            return None
        return page

    def _table_pages(self, result: SourceTables, spec: TableSpec) -> list[dict[str, Any]] | None:
        """Every page of a table; ``None`` (and the reason in ``result``) when it has none."""
        try:
            source = self.client.data_source(spec.key)
            if source is not None:
                return self.client.query(source)
            reason = f"aucune base Notion ne lui est associée ([notion.databases] {spec.key})"
        except APIResponseError as error:
            if error.code not in _MISSING:
                raise
            reason = "sa base Notion est introuvable : partagez-la avec l'intégration"
        if spec.required:
            message = f"La table {spec.label} est obligatoire, mais {reason}."
            result.errors.append(DataError(spec.label, None, None, message))
        else:
            result.missing_tables.append(spec.key)
        return None

    def _add(self, result: SourceTables, spec: TableSpec, pages: list[dict[str, Any]]) -> None:
        """The pages as records; a required property the database lacks (every page lists
        every property) makes the whole table an error."""
        present = set(pages[0].get("properties", {})) if pages else None
        absent = set() if present is None else {f.label for f in spec.fields} - present
        if not missing_required_fields(spec, absent, "la base Notion", result.errors):
            result.tables[spec.key] = [self._record(spec, p, result.errors) for p in pages]

    def _record(
        self, spec: TableSpec, page: dict[str, Any], errors: list[DataError]
    ) -> SourceRecord:
        props = page.get("properties", {})
        cells: dict[str, Any] = {}
        for f in spec.fields:
            prop = props.get(f.label)
            if prop and prop.get("type") == "relation" and prop.get("has_more"):
                ids = self.client.relation_ids(page["id"], prop["id"])
                prop = {**prop, "relation": [{"id": i} for i in ids], "has_more": False}
            cells[f.key] = prop
        primary_value = plain_value(cells.get(spec.primary.key))
        primary = None
        if spec.key not in UNNAMED_TABLES and isinstance(primary_value, str):
            primary = primary_value.strip() or None
        name = primary or page_title(page) or f"fiche {page['id']}"
        return build_record(spec, page["id"], name, primary, cells, cell_value, errors)

    def write_statuses(self, schema: Schema, statuses: dict[str, str]) -> int:
        """Write Membres.Statut for the given page ids, one request each; return pages written."""
        label = schema.label("members", "status")
        for page_id, status in statuses.items():
            self.client.update_page(page_id, {label: property_value("select", status)})
        return len(statuses)


def _ids(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else []
