"""Airtable's API, spoken to with pyairtable within its limits: the client every Airtable part uses.

Airtable allows 5 requests per second per base, 100 records per page and 10 records per write;
after a 429 it must be left alone for 30 s. pyairtable's own retry gives up long
before that, so it is replaced here by ``AirtableAdapter``: it spaces requests to at most 5 in
any second, waits the penalty after a 429 and retries 5xx and dropped connections. Every write
the project makes is an update by record id or an upsert on a key, so retrying one is harmless.

The tables are read by ``integrations.airtable_source``, the ledger kept by
``integrations.airtable_ledger``.

    >>> client = AirtableClient(AirtableSettings(base_id="app…", token="pat…"))  # doctest: +SKIP
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from pyairtable import Api, Table
from requests.adapters import HTTPAdapter

from integrations.environment import Environment
from integrations.pacing import SlidingWindow, backoff, shared_pacer
from integrations.shared_rate import budget

#: Airtable's penalty after a 429, in seconds. Tests shorten it with CAE_AIRTABLE_PENALTY_SECONDS.
PENALTY_SECONDS = 30.0
#: Seconds to connect, and to wait for an answer; tests shorten the second with
#: CAE_AIRTABLE_TIMEOUT. A write whose answer did not come in time is sent again: every write is
#: an update by record id or an upsert on a key, so the repeat changes nothing.
TIMEOUT = (10.0, 60.0)
REQUESTS_PER_SECOND = 5
PAGE_SIZE = 100
RETRYABLE = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class AirtableSettings:
    """Which base, with which token, and how the client paces and retries its requests."""

    base_id: str
    token: str = field(repr=False)
    endpoint_url: str = "https://api.airtable.com"
    requests_per_second: float = REQUESTS_PER_SECOND
    penalty_seconds: float = PENALTY_SECONDS
    timeout: tuple[float, float] = TIMEOUT
    attempts: int = 8

    @classmethod
    def from_environment(
        cls, base_id: str | None = None, env: Mapping[str, str] | None = None
    ) -> AirtableSettings:
        """``AIRTABLE_BASE_ID`` (or ``base_id`` from ``cae.toml``) and the token from the Prefect
        Secret block named by ``CAE_AIRTABLE_TOKEN_BLOCK``, else ``AIRTABLE_TOKEN``; for tests,
        ``AIRTABLE_ENDPOINT_URL``, ``CAE_AIRTABLE_PENALTY_SECONDS``, ``CAE_AIRTABLE_RATE``
        (requests a second) and ``CAE_AIRTABLE_TIMEOUT`` (seconds to wait for an answer)."""
        environment = Environment(env)
        base = environment.text("AIRTABLE_BASE_ID", base_id or "")
        if not base:
            raise ValueError(
                "Base Airtable inconnue : définissez AIRTABLE_BASE_ID ou [airtable] base_id."
            )
        return cls(
            base_id=base,
            token=environment.token("AIRTABLE", "Airtable"),
            endpoint_url=environment.text("AIRTABLE_ENDPOINT_URL", cls.endpoint_url),
            penalty_seconds=environment.number("CAE_AIRTABLE_PENALTY_SECONDS", PENALTY_SECONDS),
            requests_per_second=environment.number("CAE_AIRTABLE_RATE", REQUESTS_PER_SECOND),
            timeout=(TIMEOUT[0], environment.number("CAE_AIRTABLE_TIMEOUT", TIMEOUT[1])),
        )


class AirtableAdapter(HTTPAdapter):
    """Throttles every request and retries what Airtable asks to retry."""

    def __init__(self, settings: AirtableSettings) -> None:
        super().__init__()
        self.settings = settings
        # The limit is per base: every client of one base in this process shares its pacer,
        # and with a Prefect server every process shares one budget (integrations/shared_rate).
        local = shared_pacer(
            ("airtable", settings.endpoint_url, settings.base_id),
            settings.requests_per_second,
            SlidingWindow,
        )
        self.pacer = budget("airtable", settings.base_id, local)
        self.rate_limited = 0  # how many 429s this client received
        #: Writes sent again after a failure that may have come after the server applied them
        #: (no answer in time, connection lost, 5xx): the ledger's claim reads this.
        self.uncertain_writes = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        attempt = 0
        write = request.method != "GET" and not (request.path_url or "").endswith("/listRecords")
        while True:
            attempt += 1
            self.pacer.acquire()
            try:
                response = super().send(request, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                self.pacer.release()
                if attempt >= self.settings.attempts:
                    raise
                if write and not isinstance(exc, requests.ConnectTimeout):
                    self.uncertain_writes += 1
                time.sleep(backoff(attempt))
                continue
            self.pacer.release()
            if response.status_code not in RETRYABLE or attempt >= self.settings.attempts:
                return response
            response.close()
            if response.status_code == 429:
                self.rate_limited += 1
                self.pacer.pause(self.settings.penalty_seconds)
            else:
                self.uncertain_writes += write
                time.sleep(backoff(attempt))


class AirtableClient:
    """One pyairtable ``Api`` bound to one base, throttled by ``AirtableAdapter``."""

    def __init__(self, settings: AirtableSettings) -> None:
        self.settings = settings
        self.api = Api(
            settings.token,
            endpoint_url=settings.endpoint_url,
            timeout=settings.timeout,
            retry_strategy=None,
        )
        self.adapter = AirtableAdapter(settings)
        self.api.session.mount(settings.endpoint_url.rstrip("/") + "/", self.adapter)
        self.base = self.api.base(settings.base_id)

    def table(self, name: str) -> Table:
        return self.base.table(name)


def _error_type(error: requests.HTTPError) -> str:
    try:
        body = error.response.json()
    except ValueError:
        return ""
    problem = body.get("error") if isinstance(body, dict) else None
    if isinstance(problem, dict):
        return str(problem.get("type", ""))
    return str(problem or "")


def _unknown_field(error: requests.HTTPError, labels: list[str]) -> str | None:
    """The label an UNKNOWN_FIELD_NAME error names, if it is one of ours."""
    if _error_type(error) != "UNKNOWN_FIELD_NAME":
        return None
    message = error.response.text
    return next((label for label in labels if f'"{label}"' in message or label in message), None)


def read_table(
    client: AirtableClient, table: str, labels: list[str], formula: str | None = None
) -> tuple[list[dict], set[str]]:
    """All records of a table (or those ``formula`` selects), 100 a page, only the given
    fields; also the labels the table lacks."""
    missing: set[str] = set()
    options: dict[str, Any] = {"page_size": PAGE_SIZE}
    if formula is not None:
        options["formula"] = formula
    while True:
        wanted = [label for label in labels if label not in missing]
        try:
            return client.table(table).all(fields=wanted, **options), missing
        except requests.HTTPError as error:
            unknown = _unknown_field(error, wanted)
            if unknown is None:
                raise
            missing.add(unknown)
