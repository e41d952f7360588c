"""Notion's API, spoken to with notion-client within its limits: the client every Notion part uses.

Each table of docs/data-model.md is a Notion database. With the API version used here (2025-09-03) a
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

The tables are read by ``integrations.notion_source``, the ledger kept by
``integrations.notion_ledger``; Notion's JSON is made plain by ``integrations.notion_properties``.

    >>> client = NotionClient(NotionSettings.from_environment(config.notion))  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from notion_client import APIErrorCode, APIResponseError, Client
from notion_client.errors import HTTPResponseError, RequestTimeoutError

from integrations.environment import Environment
from integrations.notion_properties import plain_value
from integrations.pacing import TokenBucket, backoff, retry_after, shared_pacer
from integrations.refusals import Context, refused
from integrations.shared_rate import budget

API_VERSION = "2025-09-03"
BASE_URL = "https://api.notion.com"
REQUESTS_PER_SECOND = 3.0
PAGE_SIZE = 100  # pages a query answers, at most
RELATION_PAGE_SIZE = 100  # relation entries the property endpoint answers, at most
RETRYABLE = frozenset({409, 429, 500, 502, 503, 504, 529})
_CREATES = frozenset({"/v1/pages", "/v1/databases", "/v1/data_sources"})
#: The errors of an object Notion does not know, or does not share with the integration.
MISSING = frozenset({APIErrorCode.ObjectNotFound, APIErrorCode.RestrictedResource})


@dataclass(frozen=True)
class NotionSettings:
    """Which token and databases, and how the client paces and retries its requests."""

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
        environment = Environment(env)
        notion = notion or {}
        return cls(
            token=environment.token("NOTION", "Notion"),
            databases=dict(notion.get("databases", {})),
            data_sources=dict(notion.get("data_sources", {})),
            base_url=environment.text("NOTION_BASE_URL", BASE_URL).rstrip("/"),
            requests_per_second=environment.number("CAE_NOTION_RATE", REQUESTS_PER_SECOND),
        )


class NotionTransport(httpx.HTTPTransport):
    """Throttles every request and retries what is safe to retry (module docstring)."""

    def __init__(self, settings: NotionSettings) -> None:
        super().__init__()
        self.settings = settings
        # The limit is per integration token: every client of one token in this process
        # shares its pacer, and with a Prefect server every process shares one budget
        # (integrations/shared_rate), named after a hash of the token, never the token.
        token = hashlib.sha256(settings.token.encode()).hexdigest()
        local = shared_pacer(
            ("notion", settings.base_url, token), settings.requests_per_second, TokenBucket
        )
        self.pacer = budget("notion", token[:16], local)
        self.rate_limited = 0  # how many 429s this client received
        self.requests = 0  # how many requests this client sent, each attempt counted

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        repeatable = not (request.method == "POST" and request.url.path.rstrip("/") in _CREATES)
        attempt = 0
        while True:
            attempt += 1
            self.pacer.acquire()
            self.requests += 1
            try:
                response = super().handle_request(request)
            except httpx.TransportError as error:
                self.pacer.release()
                never_sent = isinstance(error, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt >= self.settings.attempts or not (repeatable or never_sent):
                    raise
                time.sleep(backoff(attempt))
                continue
            self.pacer.release()
            status = response.status_code
            if (
                status not in RETRYABLE
                or attempt >= self.settings.attempts
                or (status != 429 and not repeatable)
            ):
                return response
            wait = retry_after(response.headers.get("retry-after"), self.settings.max_wait)
            response.read()
            response.close()
            if status == 429:
                self.rate_limited += 1
                self.pacer.pause(backoff(attempt) if wait is None else wait)
            else:
                time.sleep(backoff(attempt) if wait is None else wait)


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

    def check_token(self) -> None:
        """One request (``users/me``): a secret Notion refuses raises ``SourceRefused`` before
        anything else is started."""
        with refused(Context("notion", "read")):
            self.api.users.me()

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
            if error.code in MISSING:
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
            time.sleep(backoff(attempt))
            found = self.query(
                data_source_id, {"property": title_property, "title": {"equals": title}}
            )
            if found:
                return found[0]

    def update_page(self, page_id: str, properties: dict[str, Any]) -> dict[str, Any]:
        """Set some properties of a page: one request, harmless to repeat."""
        return dict(self.api.pages.update(page_id=page_id, properties=properties))
