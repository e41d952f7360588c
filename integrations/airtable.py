"""Airtable's API, spoken to with pyairtable within its limits: the client every Airtable part uses.

Airtable allows 5 requests per second per base, 100 records per page and 10 records per write;
after a 429 it must be left alone for 30 s. pyairtable's own retry gives up long
before that, so it is replaced here by ``AirtableAdapter``: it spaces requests to at most 5 in
any second, waits the penalty after a 429 and retries 5xx and dropped connections. A 429 whose
error is ``PUBLIC_API_BILLING_LIMIT_EXCEEDED`` is no rate limit but the workspace's monthly
quota of API calls, spent until next month: waiting cannot help, so the adapter raises
``AirtableQuotaExceeded`` at once and the run stops. The adapter counts every request it sends
(``requests``), which the run reports. Every write
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
from integrations.refusals import Context, refused
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
#: The error type of the 429 Airtable answers once a workspace has spent its monthly calls.
QUOTA_ERROR = "PUBLIC_API_BILLING_LIMIT_EXCEEDED"
#: API calls a month per workspace, by plan, as Airtable publishes them.
MONTHLY_QUOTAS = {"Free": 1_000, "Team": 100_000}


class AirtableQuotaExceeded(RuntimeError):
    """The workspace's monthly API calls are spent (``QUOTA_ERROR``): the run must stop."""

    def __init__(self) -> None:
        super().__init__(
            "Airtable refuse toute requête : les appels à l'API du mois sont épuisés pour "
            "l'espace de travail de cette base (erreur PUBLIC_API_BILLING_LIMIT_EXCEEDED). "
            "Quotas mensuels par espace de travail : 1 000 appels avec l'offre Free, 100 000 "
            "avec l'offre Team. L'exécution s'arrête sans attendre : rien de ce qui a été "
            "réservé n'est perdu, et une exécution lancée après le renouvellement du quota "
            "(le mois prochain) ou un changement d'offre terminera le travail sans rien "
            "envoyer deux fois."
        )


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
        return cls(
            base_id=environment.airtable_base(base_id),
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
        self.requests = 0  # how many requests this client sent, each attempt counted
        #: Writes sent again after a failure that may have come after the server applied them
        #: (no answer in time, connection lost, 5xx): the ledger's claim reads this.
        self.uncertain_writes = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        attempt = 0
        write = request.method != "GET" and not (request.path_url or "").endswith("/listRecords")
        while True:
            attempt += 1
            self.pacer.acquire()
            self.requests += 1
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
            if response.status_code == 429 and response_error_type(response) == QUOTA_ERROR:
                response.close()
                raise AirtableQuotaExceeded()
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

    def check_token(self) -> None:
        """One request (``meta/whoami``): a token Airtable refuses raises ``SourceRefused``
        before anything else is started."""
        with refused(Context("airtable", "read", base=self.settings.base_id)):
            self.api.whoami()


def response_error_type(response: requests.Response) -> str:
    """The error type of an Airtable answer: ``{"error": {"type": …}}``, ``{"error": "…"}``
    or ``{"errors": [{"error": "…"}]}``; empty when it has none."""
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    problems = body.get("errors")
    if isinstance(problems, list) and problems and isinstance(problems[0], dict):
        return str(problems[0].get("error", ""))
    problem = body.get("error")
    if isinstance(problem, dict):
        return str(problem.get("type", ""))
    return str(problem or "")


def _error_type(error: requests.HTTPError) -> str:
    return response_error_type(error.response)


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
