"""Hostile webhooks (issue 8): the receiver (``cae/webhooks/``) against what an attacker, a
broken proxy or a flaky network sends.

Random bodies, wrong, missing, truncated, forged or replayed signatures, oversized payloads
(with an honest, a lying or no Content-Length), wrong content types, and slow clients. Not one
may start a run or get a 5xx; a correctly signed request replayed many times starts at most one
run. Property tests use hypothesis with a bounded number of examples against the app through
Starlette's TestClient; slow clients speak raw HTTP over a socket to the app served by uvicorn
on loopback; the replays also go through the real Prefect launcher to a real Prefect server.

The launcher that records its calls is the test seam (as in tests/integration/test_webhooks.py):
a run is started per distinct idempotency key, as Prefect starts one flow run per key.

``python -m pytest -q -s tests/reliability/test_hostile_webhooks.py`` prints how many requests
were tried.
"""

from __future__ import annotations

import base64
import itertools
import json
import socket
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prefect import flow

from cae.webhooks import (
    AirtableWebhookConfig,
    ReceiverConfig,
    create_app,
    prefect_launcher,
)
from cae.webhooks.airtable_registration import create_webhook
from emulators.airtable import AirtableEmulator
from integrations.airtable import AirtableClient, AirtableSettings
from tests.support import webhook_senders
from tests.support.loopback import ServedApp

TOKEN, BASE = "patHOSTILEWEBHOOKS", "appHOSTILEHOOKS"
GENERIC_SECRET = "generic-hostile-secret-4e9d2b"
NOTION_TOKEN = "secret_notion-hostile-token-7c1a"
MISSIONS_SOURCE = "2a2b3c4d-0000-4000-8000-00000000aaaa"
MEMBERS_SOURCE = "2a2b3c4d-0000-4000-8000-00000000bbbb"
PAGE = "3f0e1d2c-1111-4000-8000-000000000001"
LIMIT = 4096  # the receiver's max_body_bytes in these tests
BODY_TIMEOUT = 1.0  # and its body_timeout_seconds
EXAMPLES = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: Requests sent to the receiver, by test: the figure the report quotes.
TRIED: Counter[str] = Counter()

Launch = tuple[str, dict[str, Any], str]


@pytest.fixture(scope="module", autouse=True)
def figure() -> Iterator[None]:
    yield
    print(f"\nwebhook requests tried: {sum(TRIED.values())} ({dict(TRIED)})")


# ---- the receiver ----------------------------------------------------------------------------


class Hooks:
    """The receiver with all three senders, an Airtable emulator behind it, and what it did."""

    def __init__(self, at: AirtableEmulator, tmp: Path, launch: Callable | None = None) -> None:
        self.at = at
        # The pings read payloads from the emulator: no rate limit, for speed (limits are
        # tested in tests/integration/test_airtable_emulator.py).
        self.settings = AirtableSettings(
            base_id=BASE, token=TOKEN, endpoint_url=at.url, requests_per_second=1000
        )
        created = create_webhook(
            AirtableClient(self.settings), "http://127.0.0.1:9/webhooks/airtable", ["Missions"]
        )
        self.webhook_id, self.mac_secret = created.webhook_id, created.mac_secret_base64
        self.launches: list[Launch] = []
        self.config = webhook_senders.all_senders(
            tmp,
            AirtableWebhookConfig(self.webhook_id, self.mac_secret, self.settings),
            (MISSIONS_SOURCE, MEMBERS_SOURCE),
            GENERIC_SECRET,
            max_body_bytes=LIMIT,
            body_timeout_seconds=BODY_TIMEOUT,
        )
        assert self.config.notion is not None
        self.tokens = self.config.notion.tokens
        self.tokens.set(NOTION_TOKEN)
        self.app = create_app(self.config, launch or self._record)
        self.serial = itertools.count(1)

    def _record(self, name: str, parameters: dict[str, Any], key: str) -> None:
        self.launches.append((name, parameters, key))

    @property
    def runs(self) -> set[str]:
        """Runs started: one per distinct idempotency key, as Prefect does."""
        return {key for _, _, key in self.launches}

    # -- authentic requests, one new event each --------------------------------------------

    def ping(self) -> bytes:
        return json.dumps(
            {
                "base": {"id": BASE},
                "webhook": {"id": self.webhook_id},
                "timestamp": "2026-11-26T09:00:00.000Z",
            }
        ).encode()

    def airtable_signature(self, body: bytes, secret: str | None = None) -> str:
        return webhook_senders.airtable_mac(body, secret or self.mac_secret)

    def notion_event(self) -> bytes:
        return json.dumps(
            {
                "id": f"evt-hostile-{next(self.serial)}",
                "timestamp": "2026-11-26T09:00:00.000Z",
                "type": "page.properties_updated",
                "entity": {"id": PAGE, "type": "page"},
                "data": {"parent": {"id": MISSIONS_SOURCE, "type": "data_source"}},
            }
        ).encode()

    @staticmethod
    def notion_signature(body: bytes, token: str = NOTION_TOKEN) -> str:
        return webhook_senders.notion_signature(body, token)

    def generic_call(self) -> bytes:
        return json.dumps(
            {
                "table": "Missions",
                "record": "recHOSTILE000001",
                "source": "airtable",
                "event": f"evt-{next(self.serial)}",
            }
        ).encode()

    def authentic(self, sender: str) -> tuple[bytes, dict[str, str]]:
        """A body and the headers that make it authentic, for one new event."""
        if sender == "airtable":
            body = self.ping()
            return body, {"X-Airtable-Content-MAC": self.airtable_signature(body)}
        if sender == "notion":
            body = self.notion_event()
            return body, {"X-Notion-Signature": self.notion_signature(body)}
        return self.generic_call(), {"X-CAE-Secret": GENERIC_SECRET}


SENDERS = ("airtable", "notion", "generic")
SIGNATURE_HEADERS = {
    "airtable": "X-Airtable-Content-MAC",
    "notion": "X-Notion-Signature",
    "generic": "X-CAE-Secret",
}


@pytest.fixture(scope="module")
def at() -> Iterator[AirtableEmulator]:
    with AirtableEmulator(token=TOKEN, base_id=BASE, seed=11) as emulator:
        emulator.rate_limit = None
        emulator.create_table("Missions", [{"name": "Mission", "type": "singleLineText"}])
        emulator.create_table("Membres", [{"name": "Nom", "type": "singleLineText"}])
        yield emulator


@pytest.fixture
def hooks(at: AirtableEmulator, tmp_path: Path) -> Hooks:
    return Hooks(at, tmp_path)


def send(
    client: TestClient,
    test: str,
    sender: str,
    body: bytes | Iterator[bytes],
    headers: dict[str, str],
    content_type: str | None = "application/json",
) -> httpx.Response:
    TRIED[test] += 1
    if content_type is not None:
        headers = {"Content-Type": content_type, **headers}
    raw = {name: value.encode("latin-1") for name, value in headers.items()}
    response = client.post(f"/webhooks/{sender}", content=body, headers=raw)
    assert response.status_code < 500, response.text
    return response


# ---- signatures --------------------------------------------------------------------------


def _flip(text: str, index: int) -> str:
    index %= len(text)
    replacement = "0" if text[index] != "0" else "1"
    return text[:index] + replacement + text[index + 1 :]


latin1 = st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=120)
#: How an attacker gets a signature wrong: (name, draw) where draw(valid, body, hooks, sender).
forgeries = st.one_of(
    st.just(("missing", None)),
    st.just(("empty", "")),
    st.integers(0, 200).map(lambda n: ("truncated", n)),
    st.integers(0, 200).map(lambda n: ("one character changed", n)),
    st.just(("upper case", None)),
    st.just(("body with a space more", None)),
    st.just(("body cut by one byte", None)),
    st.just(("another secret", None)),
    st.just(("twice", None)),
    st.just(("scheme only", None)),
    latin1.map(lambda text: ("random", text)),
)


def forge(name: str, arg: Any, body: bytes, hooks: Hooks, sender: str) -> str | None:
    """The wrong signature header ``name`` describes (None: no header)."""
    valid = {
        "airtable": hooks.airtable_signature(body),
        "notion": hooks.notion_signature(body),
        "generic": GENERIC_SECRET,
    }[sender]

    def signed(other: bytes) -> str:
        if sender == "airtable":
            return hooks.airtable_signature(other)
        if sender == "notion":
            return hooks.notion_signature(other)
        return GENERIC_SECRET + "x"  # the generic secret does not depend on the body

    if name == "missing":
        return None
    if name == "truncated":
        return valid[: arg % len(valid)]
    if name == "one character changed":
        return _flip(valid, arg)
    if name == "upper case":
        return valid.upper() if valid.upper() != valid else valid + "X"
    if name == "body with a space more":
        return signed(body + b" ")
    if name == "body cut by one byte":
        return signed(body[:-1])
    if name == "another secret":
        return {
            "airtable": hooks.airtable_signature(body, base64.b64encode(b"k" * 32).decode()),
            "notion": hooks.notion_signature(body, "secret_another-token"),
            "generic": "generic-secret-of-someone-else",
        }[sender]
    if name == "twice":
        return f"{valid},{valid}"
    if name == "scheme only":
        return valid.split("=")[0] + "=" if "=" in valid else valid[:1]
    return arg  # empty or random


def test_wrong_missing_truncated_or_forged_signatures_start_nothing(hooks: Hooks) -> None:
    with TestClient(hooks.app, raise_server_exceptions=False) as client:

        @EXAMPLES
        @given(sender=st.sampled_from(SENDERS), forgery=forgeries)
        def forged(sender: str, forgery: tuple[str, Any]) -> None:
            body, _ = hooks.authentic(sender)
            signature = forge(*forgery, body, hooks, sender)
            headers = {} if signature is None else {SIGNATURE_HEADERS[sender]: signature}
            requests_before = hooks.at.count()
            response = send(client, "forged signatures", sender, body, headers)
            assert response.status_code == 401, (forgery, response.text)
            assert set(response.json()) == {"erreur"}
            assert hooks.launches == []
            assert hooks.at.count() == requests_before  # not one request to Airtable
            assert hooks.tokens.get() == NOTION_TOKEN

        forged()


def test_an_unsigned_handshake_never_replaces_the_notion_token(hooks: Hooks) -> None:
    with TestClient(hooks.app, raise_server_exceptions=False) as client:

        @EXAMPLES
        @given(token=st.text(min_size=1, max_size=80))
        def handshake(token: str) -> None:
            body = json.dumps({"verification_token": token}).encode()
            response = send(client, "handshakes", "notion", body, {})
            assert 400 <= response.status_code < 500
            assert hooks.tokens.get() == NOTION_TOKEN
            assert hooks.launches == []

        handshake()


# ---- bodies, content types, sizes ------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner),
    max_leaves=10,
)


def _mutations(body: bytes) -> st.SearchStrategy[bytes]:
    """Near misses of an authentic body: cut, extended, bytes changed, fields changed."""
    data = json.loads(body)
    return st.one_of(
        st.integers(0, len(body) - 1).map(lambda n: body[:n]),
        st.binary(min_size=1, max_size=50).map(lambda extra: body + extra),
        st.tuples(st.integers(0, len(body) - 1), st.integers(0, 255)).map(
            lambda change: body[: change[0]] + bytes([change[1]]) + body[change[0] + 1 :]
        ),
        st.tuples(st.sampled_from(sorted(data)), json_values).map(
            lambda change: json.dumps({**data, change[0]: change[1]}).encode()
        ),
        json_values.map(lambda value: json.dumps(value).encode()),
        st.binary(max_size=200),
    )


#: One authentic body per sender, fixed, for hypothesis to mutate.
TEMPLATES = {
    "notion": json.dumps(
        {
            "id": "evt-hostile-template",
            "type": "page.properties_updated",
            "entity": {"id": PAGE, "type": "page"},
            "data": {"parent": {"id": MISSIONS_SOURCE, "type": "data_source"}},
        }
    ).encode(),
    "generic": json.dumps(
        {"table": "Missions", "record": "recHOSTILE000001", "source": "airtable", "event": "e1"}
    ).encode(),
}


def test_random_bodies_signed_correctly_start_nothing_unless_they_are_a_real_event(
    hooks: Hooks,
) -> None:
    """Whoever holds the secret can still send garbage: bodies near an authentic one, or
    anything, correctly signed. Refused with a 4xx unless the body is a whole, valid event;
    nothing ever starts without one."""
    with TestClient(hooks.app, raise_server_exceptions=False) as client:

        @EXAMPLES
        @given(sender=st.sampled_from(("notion", "generic")), data=st.data())
        def signed_garbage(sender: str, data: st.DataObject) -> None:
            body = data.draw(_mutations(TEMPLATES[sender]))
            header = SIGNATURE_HEADERS[sender]
            signature = hooks.notion_signature(body) if sender == "notion" else GENERIC_SECRET
            before = len(hooks.launches)
            response = send(client, "signed random bodies", sender, body, {header: signature})
            if response.status_code == 200 and response.json().get("statut") == "lancé":
                # Only a well-formed event launches: its fields are those of a real one.
                event = json.loads(body)
                assert isinstance(event, dict)
                (launched,) = hooks.launches[before:]
                assert launched[1]["kind"] == "mission"
            else:
                assert 400 <= response.status_code < 500 or response.json() == {
                    "statut": "ignoré"
                }, response.text
                assert len(hooks.launches) == before

        signed_garbage()


content_types = st.one_of(
    st.sampled_from(
        [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json-patch+json",
            "application/jsonx",
            "text/json",
            "application/javascript",
            "application/json, text/plain",
            "",
            "APPLICATION/JSON",
            "application/json; charset=utf-8",
            "application/json;",
        ]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)


def test_authentic_requests_with_another_content_type_start_nothing(hooks: Hooks) -> None:
    with TestClient(hooks.app, raise_server_exceptions=False) as client:

        @EXAMPLES
        @given(sender=st.sampled_from(("notion", "generic")), content_type=content_types)
        def typed(sender: str, content_type: str) -> None:
            body, headers = hooks.authentic(sender)
            before = len(hooks.launches)
            response = send(client, "content types", sender, body, headers, content_type)
            is_json = content_type.split(";")[0].strip().lower() == "application/json"
            if is_json:
                assert response.status_code == 200 and len(hooks.launches) == before + 1
            else:
                assert response.status_code == 415 and len(hooks.launches) == before

        typed()


def _padded(body: bytes, size: int) -> bytes:
    """The same JSON, padded with spaces to ``size`` bytes (when it is not longer already)."""
    return body[:-1] + b" " * max(0, size - len(body)) + body[-1:]


def test_bodies_over_the_limit_are_refused_however_they_are_framed(hooks: Hooks) -> None:
    """Authentic events padded to sizes around ``max_body_bytes``, sent with a Content-Length
    or chunked (no length): over the limit, 413 and nothing started; within it, one run."""
    with TestClient(hooks.app, raise_server_exceptions=False) as client:

        @EXAMPLES
        @given(
            sender=st.sampled_from(("notion", "generic")),
            size=st.integers(LIMIT - 3, LIMIT + 3)
            | st.integers(100, LIMIT)
            | st.integers(LIMIT + 4, 20 * LIMIT),
            chunked=st.booleans(),
            pieces=st.integers(1, 7),
        )
        def sized(sender: str, size: int, chunked: bool, pieces: int) -> None:
            body, headers = hooks.authentic(sender)
            body = _padded(body, size)
            if sender == "notion":
                headers = {SIGNATURE_HEADERS[sender]: hooks.notion_signature(body)}
            step = -(-len(body) // pieces)
            content: bytes | Iterator[bytes] = (
                iter([body[i : i + step] for i in range(0, len(body), step)]) if chunked else body
            )
            before = len(hooks.launches)
            response = send(client, "body sizes", sender, content, headers)
            if len(body) > LIMIT:
                assert response.status_code == 413, response.text
                assert len(hooks.launches) == before
            else:
                assert response.status_code == 200, response.text
                assert len(hooks.launches) == before + 1

        sized()


# ---- replays ---------------------------------------------------------------------------------


def test_a_signed_request_replayed_many_times_starts_at_most_one_run(hooks: Hooks) -> None:
    """Authentic requests sent again and again, in any order: one run per event. For Airtable a
    ping only says 'something changed': each change starts one run, however many pings follow."""
    mission = hooks.at.insert("Missions", {"Mission": "Site vitrine"})
    changes = itertools.count(1)
    with TestClient(hooks.app, raise_server_exceptions=False) as client:
        send(client, "replays", "airtable", *hooks.authentic("airtable"))  # the creation
        assert len(hooks.runs) == 1

        @settings(EXAMPLES, max_examples=60)
        @given(
            senders=st.lists(st.sampled_from(SENDERS), min_size=1, max_size=4),
            replays=st.lists(st.integers(0, 3), max_size=20),
        )
        def replayed(senders: list[str], replays: list[int]) -> None:
            before = set(hooks.runs)
            events = []
            for sender in senders:
                if sender == "airtable":
                    hooks.at.change_record("Missions", mission, {"Mission": f"v{next(changes)}"})
                events.append((sender, *hooks.authentic(sender)))
            # Every event at least once, then the replays.
            for index in [*range(len(events)), *replays]:
                sender, body, headers = events[index % len(events)]
                response = send(client, "replays", sender, body, headers)
                assert response.status_code == 200, response.text
            assert len(hooks.runs - before) == len(events), (senders, replays)

        replayed()


@flow(name="hostile-webhook-probe")
def probe(kind: str, record: str, source: str) -> str:
    """A flow for the replays through Prefect: never run, only scheduled."""
    return f"{kind}:{record}:{source}"


@pytest.mark.e2e
def test_replays_through_prefect_start_one_flow_run_per_event(
    at: AirtableEmulator, tmp_path: Path, prefect_server: None
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    deployment_id = probe.to_deployment(name="replays").apply()
    hooks = Hooks(at, tmp_path)  # for its authentic requests
    app = create_app(
        ReceiverConfig(
            notion=hooks.config.notion,
            generic_secret=GENERIC_SECRET,
            targeted_deployment="hostile-webhook-probe/replays",
        ),
        prefect_launcher(),
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        events = [(sender, *hooks.authentic(sender)) for sender in ("notion", "generic")]
        for round_ in range(25):
            for sender, body, headers in events:
                response = send(client, "replays through Prefect", sender, body, headers)
                assert response.json() == {"statut": "lancé"}, (round_, response.text)
    with get_client(sync_client=True) as prefect:
        runs = prefect.read_flow_runs(
            deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))
        )
    assert len(runs) == 2
    assert sorted(r.parameters["source"] for r in runs) == ["airtable", "notion"]


# ---- slow and lying clients, over a real socket ----------------------------------------------


class Served(ServedApp):
    """The receiver served by uvicorn, with health checks and raw sockets counted in ``TRIED``."""

    def healthy(self) -> bool:
        TRIED["health checks beside slow clients"] += 1
        started = time.monotonic()
        response = httpx.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2)
        return response.status_code == 200 and time.monotonic() - started < 1

    def connect(self, test: str) -> socket.socket:
        TRIED[test] += 1
        connection = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        return connection


def head(sender: str, headers: dict[str, str], length: int | None, chunked: bool = False) -> bytes:
    lines = [f"POST /webhooks/{sender} HTTP/1.1", "Host: 127.0.0.1"]
    lines += ["Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items())]
    if length is not None:
        lines.append(f"Content-Length: {length}")
    if chunked:
        lines.append("Transfer-Encoding: chunked")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(connection: socket.socket, timeout: float, quiet: float = 0.3) -> bytes:
    """What the server sends until it closes, goes silent for ``timeout`` seconds, or for
    ``quiet`` seconds after a whole response (uvicorn may hold a connection it answered)."""
    received = b""
    deadline = time.monotonic() + timeout
    while True:
        wait = deadline - time.monotonic()
        if wait <= 0:
            return received
        connection.settimeout(wait)
        try:
            chunk = connection.recv(65536)
        except (TimeoutError, ConnectionResetError):
            return received
        if not chunk:
            return received
        received += chunk
        if _complete(received):
            deadline = min(deadline, time.monotonic() + quiet)


def _complete(response: bytes) -> bool:
    head_, found, rest = response.partition(b"\r\n\r\n")
    if not found:
        return False
    for line in head_.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return len(rest) >= int(line.split(b":")[1])
    return True


def status_of(response: bytes) -> int | None:
    return int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/1.1 ") else None


def begin(served: Served, hooks: Hooks, test: str, sender: str) -> tuple[socket.socket, bytes]:
    """Connect and send the head of an authentic request from ``sender``, declaring its body's
    true length; return the connection and the body, not sent yet."""
    body, headers = hooks.authentic(sender)
    connection = served.connect(test)
    connection.sendall(head(sender, headers, len(body)))
    return connection, body


@pytest.fixture
def served(hooks: Hooks) -> Iterator[Served]:
    with Served(hooks.app) as server:
        yield server


@pytest.mark.parametrize("sender", ["notion", "generic"])
def test_a_client_that_stalls_mid_body_gets_a_408_and_starts_nothing(
    hooks: Hooks, served: Served, sender: str
) -> None:
    connection, body = begin(served, hooks, "stalled bodies", sender)
    connection.sendall(body[: len(body) // 2])
    assert served.healthy()  # others are served meanwhile
    started = time.monotonic()
    response = answer(connection, BODY_TIMEOUT + 3, quiet=0)
    assert status_of(response) == 408, response[:200]
    assert time.monotonic() - started < BODY_TIMEOUT + 1
    connection.sendall(body[len(body) // 2 :])  # too late: the request was refused
    assert answer(connection, 0.5) == b""
    connection.close()
    assert hooks.launches == []


def test_a_client_trickling_its_body_past_the_timeout_gets_a_408(
    hooks: Hooks, served: Served
) -> None:
    connection, body = begin(served, hooks, "trickled bodies", "generic")
    started = time.monotonic()
    status = None
    for byte in body:
        try:
            connection.sendall(bytes([byte]))
        except OSError:  # the server answered and closed
            break
        time.sleep(BODY_TIMEOUT / 20)
        if time.monotonic() - started > BODY_TIMEOUT + 2:
            break
    status = status_of(answer(connection, 2))
    connection.close()
    assert (status, hooks.launches) == (408, [])  # refused, and nothing started


def test_a_client_trickling_its_body_within_the_timeout_is_served(
    hooks: Hooks, served: Served
) -> None:
    """Slow is not hostile: a body trickled in under the limit is read and launches once."""
    connection, body = begin(served, hooks, "trickled bodies", "generic")
    for index in range(0, len(body), 16):
        connection.sendall(body[index : index + 16])
        time.sleep(BODY_TIMEOUT / 40)
    assert status_of(answer(connection, 2)) == 200
    connection.close()
    assert len(hooks.runs) == 1


@pytest.mark.parametrize("sender", ["notion", "generic"])
def test_a_content_length_shorter_than_the_body_starts_nothing(
    hooks: Hooks, served: Served, sender: str
) -> None:
    """The server reads only what was declared: a cut event, refused; the rest of the bytes are
    no request either."""
    body, headers = hooks.authentic(sender)
    for declared in (0, 1, len(body) // 2, len(body) - 1):
        connection = served.connect("lying Content-Length")
        connection.sendall(head(sender, headers, declared) + body)
        response = answer(connection, 1.5)
        connection.close()
        statuses = [int(line.split(b" ")[1]) for line in response.split(b"\r\n") if
                    line.startswith(b"HTTP/1.1 ")]  # fmt: skip
        assert statuses and all(400 <= s < 500 for s in statuses), response[:300]
    assert hooks.launches == []


def test_a_content_length_over_the_limit_is_refused_before_the_body(
    hooks: Hooks, served: Served
) -> None:
    body, headers = hooks.authentic("generic")
    connection = served.connect("declared oversize")
    connection.sendall(head("generic", headers, 10 * LIMIT) + body)  # and never the rest
    response = answer(connection, 1.5)
    connection.close()
    assert status_of(response) == 413
    assert hooks.launches == []


def test_a_chunked_body_over_the_limit_is_refused_as_it_arrives(
    hooks: Hooks, served: Served
) -> None:
    connection = served.connect("chunked oversize")
    _, headers = hooks.authentic("generic")
    connection.sendall(head("generic", headers, None, chunked=True))
    status = None
    for _ in range(40):  # 40 chunks of 1 KiB: ten times the limit, if nothing stops it
        chunk = b" " * 1024
        try:
            connection.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        except OSError:
            break
        connection.settimeout(0.05)
        try:
            reply = connection.recv(4096)
        except TimeoutError:
            continue
        status = status_of(reply)
        break
    if status is None:
        status = status_of(answer(connection, 1.5))
    connection.close()
    assert status == 413
    assert hooks.launches == []


def test_clients_that_stall_in_their_headers_or_vanish_leave_the_server_responsive(
    hooks: Hooks, served: Served
) -> None:
    """Uvicorn never times out a request whose headers are unfinished (see the report): such
    connections are held, start nothing, and the server keeps answering others."""
    body, headers = hooks.authentic("generic")
    held = []
    request = head("generic", headers, len(body)) + body
    for index in range(30):
        connection = served.connect("stalled headers and dropped connections")
        cut = (index * 7) % len(request)
        connection.sendall(request[:cut])
        if index % 2:
            connection.close()  # gone mid-request
        else:
            held.append(connection)
    assert served.healthy()
    time.sleep(BODY_TIMEOUT + 0.5)
    assert served.healthy()
    for connection in held:
        connection.close()
    assert hooks.launches == []
    body, headers = hooks.authentic("generic")
    with httpx.Client(base_url=f"http://127.0.0.1:{served.port}") as client:
        TRIED["stalled headers and dropped connections"] += 1
        response = client.post(
            "/webhooks/generic",
            content=body,
            headers={"Content-Type": "application/json", **headers},
        )
    assert response.status_code == 200
    assert len(hooks.runs) == 1
