"""Airtable as the cooperative's source of truth, spoken to with pyairtable within its limits.

Airtable allows 5 requests per second per base, 100 records per page and 10 records per write;
after a 429 it must be left alone for 30 s (API-NOTES.md). pyairtable's own retry gives up long
before that, so it is replaced here by ``AirtableAdapter``: it spaces requests to at most 5 in
any second, waits the penalty after a 429 and retries 5xx and dropped connections. Every write
the project makes is an update by record id or an upsert on a key, so retrying one is harmless.

    >>> client = AirtableClient(AirtableSettings(base_id="app…", token="pat…"))  # doctest: +SKIP
    >>> tables = AirtableSource(client).read(Schema.default())                  # doctest: +SKIP
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import requests
from pyairtable import Api, Table
from requests.adapters import HTTPAdapter

from charter.scope import Scope, ScopeKind
from integrations.base import DataError, SourceTables
from integrations.cells import (
    CellError,
    build_record,
    missing_required_fields,
    parse_cell,
    quoted,
)
from settings.schema import UNNAMED_TABLES, FieldSpec, FieldType, Schema, TableSpec

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
        env = os.environ if env is None else env
        base = env.get("AIRTABLE_BASE_ID") or base_id
        if not base:
            raise ValueError(
                "Base Airtable inconnue : définissez AIRTABLE_BASE_ID ou [airtable] base_id."
            )
        block = env.get("CAE_AIRTABLE_TOKEN_BLOCK")
        if block:
            from prefect.blocks.system import Secret

            token = str(Secret.load(block).get())
        else:
            token = env.get("AIRTABLE_TOKEN", "")
        if not token:
            raise ValueError(
                "Jeton Airtable absent : définissez AIRTABLE_TOKEN ou un bloc Secret Prefect "
                "nommé dans CAE_AIRTABLE_TOKEN_BLOCK."
            )
        return cls(
            base_id=base,
            token=token,
            endpoint_url=env.get("AIRTABLE_ENDPOINT_URL", cls.endpoint_url),
            penalty_seconds=float(env.get("CAE_AIRTABLE_PENALTY_SECONDS", PENALTY_SECONDS)),
            requests_per_second=float(env.get("CAE_AIRTABLE_RATE", REQUESTS_PER_SECOND)),
            timeout=(TIMEOUT[0], float(env.get("CAE_AIRTABLE_TIMEOUT", TIMEOUT[1]))),
        )


class RateLimiter:
    """At most ``rate`` requests in any sliding window of one second, as the server sees them.

    A request is counted from the moment its response came back: the server saw it at the
    latest then, so however long the network held the earlier requests, a new one never reaches
    the server within a second of the ``rate``-th before it.
    """

    def __init__(self, rate: float, window: float = 1.0) -> None:
        self.rate = max(1, int(rate))
        self.window = window
        self._done: deque[float] = deque(maxlen=self.rate)
        self._lock = threading.Lock()

    def wait(self) -> None:
        """Block until one more request may go out."""
        with self._lock:
            if len(self._done) == self.rate:
                delay = self._done[0] + self.window - time.monotonic()
                if delay > 0:
                    time.sleep(delay)

    def done(self) -> None:
        """The response to a request came back."""
        with self._lock:
            self._done.append(time.monotonic())

    def pause(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (after a 429), then start a fresh window."""
        with self._lock:
            time.sleep(seconds)
            self._done.clear()


_LIMITERS: dict[tuple[str, str], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def limiter_for(settings: AirtableSettings) -> RateLimiter:
    """The limit is per base: every client of one base in this process shares one limiter."""
    with _LIMITERS_LOCK:
        key = (settings.endpoint_url, settings.base_id)
        limiter = _LIMITERS.get(key)
        if limiter is None or limiter.rate != max(1, int(settings.requests_per_second)):
            limiter = _LIMITERS[key] = RateLimiter(settings.requests_per_second)
        return limiter


class AirtableAdapter(HTTPAdapter):
    """Throttles every request and retries what Airtable asks to retry."""

    def __init__(self, settings: AirtableSettings) -> None:
        super().__init__()
        self.settings = settings
        self.limiter = limiter_for(settings)
        self.rate_limited = 0  # how many 429s this client received
        #: Writes sent again after a failure that may have come after the server applied them
        #: (no answer in time, connection lost, 5xx): the ledger's claim reads this.
        self.uncertain_writes = 0

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        attempt = 0
        write = request.method != "GET" and not (request.path_url or "").endswith("/listRecords")
        while True:
            attempt += 1
            self.limiter.wait()
            try:
                response = super().send(request, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                self.limiter.done()
                if attempt >= self.settings.attempts:
                    raise
                if write and not isinstance(exc, requests.ConnectTimeout):
                    self.uncertain_writes += 1
                time.sleep(min(2.0**attempt * 0.1, 5.0))
                continue
            self.limiter.done()
            if response.status_code not in RETRYABLE or attempt >= self.settings.attempts:
                return response
            response.close()
            if response.status_code == 429:
                self.rate_limited += 1
                self.limiter.pause(self.settings.penalty_seconds)
            else:
                self.uncertain_writes += write
                time.sleep(min(2.0**attempt * 0.1, 5.0))


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


def cell_value(spec: FieldSpec, value: Any) -> Any:
    """A typed value from Airtable's JSON: numbers, strings, booleans, lists of record ids."""
    if isinstance(value, str):
        return parse_cell(spec, value.strip()) if value.strip() else None
    if spec.type in (FieldType.CURRENCY, FieldType.NUMBER):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CellError(f"« {spec.label} » : {quoted(str(value))} n'est pas un montant.")
        return Decimal(str(value))
    if spec.type is FieldType.CHECKBOX:
        return bool(value)
    if spec.type in (FieldType.LINK, FieldType.LINKS):
        ids = [str(v) for v in value] if isinstance(value, list) else []
        if spec.type is FieldType.LINK and len(ids) > 1:
            raise CellError(f"« {spec.label} » : un seul lien est attendu, {len(ids)} trouvés.")
        return ids or None
    if isinstance(value, list):  # a lookup or a multiple select where text was expected
        return parse_cell(spec, ", ".join(str(v) for v in value))
    raise CellError(f"« {spec.label} » : {quoted(str(value))} n'est pas une valeur attendue.")


class AirtableSource:
    """The cooperative's tables in one Airtable base, named as in the mapping."""

    name = "airtable"

    def __init__(self, client: AirtableClient) -> None:
        self.client = client

    def read(self, schema: Schema, scope: Scope | None = None) -> SourceTables:
        """Every table; for a mission's targeted run, only that mission and its members."""
        if scope is not None and scope.kind is ScopeKind.MISSION:
            return self._read_mission(schema, scope.record_id)
        result = SourceTables()
        for spec in schema.tables.values():
            self._read_into(result, spec)
        return result

    def _read_mission(self, schema: Schema, mission_id: str) -> SourceTables:
        """The mission (1 request), the members it links to (1), their sponsors (at most 1)."""
        result = SourceTables()
        missions, members = schema.table("missions"), schema.table("members")
        self._read_into(result, missions, by_ids([mission_id]))
        linked = {
            member_id
            for record in result.tables.get("missions", [])
            for f in missions.fields
            if f.link_table == "members"
            for member_id in _ids(record.values.get(f.key))
        }
        if not linked:
            return result
        self._read_into(result, members, by_ids(sorted(linked)))
        sponsors = {
            sponsor
            for record in result.tables.get("members", [])
            for sponsor in _ids(record.values.get("sponsor"))
        } - linked
        if sponsors:
            read = result.tables.pop("members", [])
            self._read_into(result, members, by_ids(sorted(sponsors)))
            result.tables["members"] = read + result.tables.get("members", [])
        return result

    def _read_into(self, result: SourceTables, spec: TableSpec, formula: str | None = None) -> None:
        """Read one table into ``result``; a table that cannot be used becomes an error."""
        try:
            records, missing = read_table(
                self.client, spec.label, [f.label for f in spec.fields], formula
            )
        except requests.HTTPError as error:
            if error.response is None or error.response.status_code not in (403, 404):
                raise
            if spec.required:
                message = (
                    f"La table {spec.label} est obligatoire, mais la base Airtable ne l'a pas."
                )
                result.errors.append(DataError(spec.label, None, None, message))
            else:
                result.missing_tables.append(spec.key)
            return
        if not missing_required_fields(spec, missing, "la table", result.errors):
            result.tables[spec.key] = [_record(spec, r, result.errors) for r in records]

    def write_statuses(self, schema: Schema, statuses: dict[str, str]) -> int:
        """Write Membres.Statut for the given record ids, 10 a request; return rows written."""
        if not statuses:
            return 0
        label = schema.label("members", "status")
        self.client.table(schema.label("members")).batch_update(
            [{"id": rec_id, "fields": {label: status}} for rec_id, status in statuses.items()]
        )
        return len(statuses)


def _record(spec: TableSpec, record: dict[str, Any], errors: list[DataError]):  # type: ignore[no-untyped-def]
    fields = record.get("fields", {})
    cells = {f.key: fields.get(f.label) for f in spec.fields}
    primary_value = cells.get(spec.primary.key)
    primary = None
    if spec.key not in UNNAMED_TABLES and isinstance(primary_value, str) and primary_value.strip():
        primary = primary_value.strip()
    name = primary or f"fiche {record['id']}"
    return build_record(spec, record["id"], name, primary, cells, cell_value, errors)


def by_ids(record_ids: list[str]) -> str:
    """A formula selecting records by id: ``OR(RECORD_ID()='rec…', …)``."""
    return "OR(" + ",".join(f"RECORD_ID()='{_quote(i)}'" for i in record_ids) + ")"


def _quote(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")


def _ids(value: Any) -> list[str]:
    return list(value) if isinstance(value, list) else []
