"""The Notion emulator: its constructor, direct state helpers, fault injection, counting and
lookups; the API itself comes from the mixins beside it."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from emulators.loopback import Fault, LoopbackEmulator
from emulators.notion.errors import _gateway_page, _not_found, _retry_after_header
from emulators.notion.helpers import _body_id, _canonical_id, _path_id, _text
from emulators.notion.http import RequestHandling
from emulators.notion.model import (
    CAPABILITIES,
    FAULT_CODES,
    FAULT_MESSAGES,
    PROPERTY_ID_CHARS,
    STAFF_USER_ID,
    NotionRequest,
    _Database,
    _DataSource,
    _Effects,
    _Page,
)
from emulators.notion.pages import Pages
from emulators.notion.query import Query
from emulators.notion.rendering import Rendering
from emulators.notion.schema import Schema
from emulators.notion.webhooks import Webhooks

# ---- the emulator -------------------------------------------------------------------------


class NotionEmulator(
    RequestHandling,
    Schema,
    Query,
    Pages,
    Rendering,
    Webhooks,
    LoopbackEmulator[NotionRequest],
):
    """The Notion API on 127.0.0.1 (random port), for the real notion-client.

    Args:
        token: the one integration token it accepts (``Authorization: Bearer <token>``).
        rate: tokens added to the bucket a second (Notion: 3 on average); ``None`` lifts the
            limit.
        burst: the bucket's capacity, and its content at start.
        retry_after: the ``Retry-After`` seconds sent with a 429 (an integer is what Notion
            sends and what notion-client understands; it ignores fractions).
        seed: makes the generated ids reproducible.
        capabilities: what the integration may do, of ``CAPABILITIES`` (default: all); a
            request needing another gets 403 ``restricted_resource``.

    ``unshared`` holds the ids of databases not shared with the integration (``unshare``):
    Notion answers 404 ``object_not_found`` for them, their data sources and their pages.

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
        capabilities: tuple[str, ...] = CAPABILITIES,
    ) -> None:
        super().__init__()
        self.token = token
        self.capabilities = capabilities
        self.unshared: set[str] = set()
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
            self.unshared.add(self._database(database_id).id)

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
        if page is None or (source is not None and source.database_id in self.unshared):
            raise _not_found("page", page_id)
        return page

    def _database_or_404(self, raw: Any) -> _Database:
        database_id = _path_id(raw, "database_id")
        database = self._databases.get(database_id)
        if database is None or database_id in self.unshared:
            hint = ""
            if database_id in self._data_sources:
                hint = " (this ID is a data source: the database is its parent.database_id)"
            raise _not_found("database", database_id, hint)
        return database

    def _data_source_or_404(self, raw: Any) -> _DataSource:
        source_id = _path_id(raw, "data_source_id")
        source = self._data_sources.get(source_id)
        if source is None or source.database_id in self.unshared:
            hint = ""
            if source_id in self._databases:
                hint = (
                    " (this ID is a database: its data sources are listed by GET "
                    "/v1/databases/{id})"
                )
            raise _not_found("data source", source_id, hint)
        return source
