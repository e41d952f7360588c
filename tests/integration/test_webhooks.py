"""The webhook receiver (cae/webhooks/): signatures, limits, idempotency keys, Airtable payloads.

Airtable's pings come from the Airtable emulator over real HTTP to the receiver served by uvicorn
on loopback; the other senders are played with FastAPI's TestClient. A plain list stands in for
Prefect's ``run_deployment``: it records each ``launch(deployment, parameters, key)``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cae.webhooks import (
    AirtableWebhookConfig,
    FileCursorStore,
    ReceiverConfig,
    create_app,
)
from cae.webhooks.airtable_registration import (
    create_webhook,
    load_webhook_secret,
    refresh_webhook,
    save_webhook_secret,
)
from emulators.airtable import AirtableEmulator
from integrations.airtable import AirtableClient, AirtableSettings
from tests.support import webhook_senders
from tests.support.loopback import ServedApp, free_port

TOKEN = "patWEBHOOKTEST"
BASE = "appWEBHOOKS"
DEPLOYMENT = "targeted/targeted"
GENERIC_SECRET = "generic-secret-8c1f0e6d2b"
NOTION_TOKEN = "secret_notion-verification-5d7a9e"
MISSIONS_SOURCE = "1a2b3c4d-0000-4000-8000-00000000aaaa"
MEMBERS_SOURCE = "1a2b3c4d-0000-4000-8000-00000000bbbb"
MISSION_PAGE = "2f0e1d2c-1111-4000-8000-000000000001"
# Airtable's MAC secret, for the receivers that never reach the emulator.
MAC_SECRET = base64.b64encode(b"an airtable webhook mac secret!!").decode()

Launch = tuple[str, dict[str, Any], str]


# ---- fixtures and helpers -----------------------------------------------------------------


@pytest.fixture(autouse=True)
def secrets(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Every test ends by checking that no secret it used reached the logs."""
    caplog.set_level(logging.DEBUG)
    used = [TOKEN, GENERIC_SECRET, NOTION_TOKEN, MAC_SECRET]
    yield used
    for secret in used:
        assert secret not in caplog.text


@pytest.fixture
def launches() -> list[Launch]:
    return []


def recorder(launches: list[Launch]):
    def launch(name: str, parameters: dict[str, Any], key: str) -> None:
        launches.append((name, parameters, key))

    return launch


def airtable_mac(body: bytes, secret: str = MAC_SECRET) -> str:
    return webhook_senders.airtable_mac(body, secret)


def notion_signature(body: bytes, token: str = NOTION_TOKEN) -> str:
    return webhook_senders.notion_signature(body, token)


def notion_event(event_id: str, parent: str, kind: str = "page.properties_updated") -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "timestamp": "2026-11-26T09:00:00.000Z",
            "type": kind,
            "entity": {"id": MISSION_PAGE, "type": "page"},
            "data": {"parent": {"id": parent, "type": "data_source"}, "updated_properties": []},
            "attempt_number": 1,
        }
    ).encode()


def receiver_config(tmp_path: Path, **changes: Any) -> ReceiverConfig:
    """All three senders; the Airtable base is never reached (nothing is validly signed)."""
    settings = AirtableSettings(base_id=BASE, token=TOKEN, endpoint_url="http://127.0.0.1:9")
    airtable = AirtableWebhookConfig("achWEBHOOK000001", MAC_SECRET, settings)
    sources = (MISSIONS_SOURCE, MEMBERS_SOURCE)
    return webhook_senders.all_senders(tmp_path, airtable, sources, GENERIC_SECRET, **changes)


@pytest.fixture
def client(tmp_path: Path, launches: list[Launch]) -> Iterator[TestClient]:
    with TestClient(create_app(receiver_config(tmp_path), recorder(launches))) as test_client:
        yield test_client


def post(client: TestClient, path: str, body: bytes, **headers: str) -> httpx.Response:
    return client.post(path, content=body, headers={"Content-Type": "application/json", **headers})


class Receiver(ServedApp):
    """The receiver served by uvicorn, with a way to wait for its reading of Airtable."""

    def settle(self) -> None:
        """Wait for the background reading of Airtable payloads to finish."""
        deadline = time.monotonic() + 10
        while httpx.get(f"{self.url}/healthz").json()["airtable_en_cours"]:
            assert time.monotonic() < deadline, "the Airtable payloads were never read"
            time.sleep(0.02)


@pytest.fixture
def at() -> Iterator[AirtableEmulator]:
    with AirtableEmulator(token=TOKEN, base_id=BASE, seed=7) as emulator:
        emulator.create_table("Membres", [{"name": "Nom", "type": "singleLineText"}])
        emulator.create_table(
            "Missions",
            [
                {"name": "Mission", "type": "singleLineText"},
                {"name": "CA HT", "type": "currency", "options": {"precision": 2, "symbol": "€"}},
            ],
        )
        emulator.create_table("Journal", [{"name": "Note", "type": "singleLineText"}])
        yield emulator


# ---- Airtable, against the emulator -------------------------------------------------------


def test_an_airtable_ping_launches_one_run_per_changed_record_once(
    at: AirtableEmulator, tmp_path: Path, launches: list[Launch], secrets: list[str]
) -> None:
    mission = at.insert("Missions", {"Mission": "Site vitrine", "CA HT": 1000})
    member = at.insert("Membres", {"Nom": "Camille"})
    journal = at.insert("Journal", {"Note": "début"})
    port = free_port()
    settings = AirtableSettings(base_id=BASE, token=TOKEN, endpoint_url=at.url)
    client = AirtableClient(settings)
    hook = create_webhook(
        client, f"http://127.0.0.1:{port}/webhooks/airtable", ["Missions", "Membres"]
    )
    secrets.append(hook.mac_secret_base64)
    assert hook.mac_secret_base64 not in repr(hook)
    cursors = FileCursorStore(tmp_path / "cursors.json")
    config = ReceiverConfig(
        airtable=AirtableWebhookConfig(hook.webhook_id, hook.mac_secret_base64, settings),
        cursor_store=cursors,
    )

    with Receiver(create_app(config, recorder(launches)), port) as receiver:
        at.change_record("Missions", mission, {"CA HT": 1200})
        assert at.ping(hook.webhook_id) == 200
        receiver.settle()
        first = (
            DEPLOYMENT,
            {"kind": "mission", "record": mission, "source": "airtable"},
            f"airtable:{hook.webhook_id}:1:{mission}",
        )
        assert launches == [first]

        assert at.ping(hook.webhook_id) == 200
        receiver.settle()
        assert launches == [first]

        at.change_record("Journal", journal, {"Note": "suite"})
        at.change_record("Membres", member, {"Nom": "Camille D."})
        assert at.ping(hook.webhook_id) == 200
        receiver.settle()
        assert launches[1:] == [
            (
                DEPLOYMENT,
                {"kind": "member", "record": member, "source": "airtable"},
                f"airtable:{hook.webhook_id}:3:{member}",
            )
        ]
        assert cursors.get(hook.webhook_id) == 4

        # A lost cursor reads everything again, under the same keys: Prefect starts nothing.
        (tmp_path / "cursors.json").unlink()
        assert at.ping(hook.webhook_id) == 200
        receiver.settle()
        assert [key for _, _, key in launches[2:]] == [key for _, _, key in launches[:2]]


def test_a_new_record_is_launched_too(
    at: AirtableEmulator, tmp_path: Path, launches: list[Launch], secrets: list[str]
) -> None:
    port = free_port()
    settings = AirtableSettings(base_id=BASE, token=TOKEN, endpoint_url=at.url)
    hook = create_webhook(
        AirtableClient(settings), f"http://127.0.0.1:{port}/webhooks/airtable", ["Missions"]
    )
    secrets.append(hook.mac_secret_base64)
    config = ReceiverConfig(
        airtable=AirtableWebhookConfig(hook.webhook_id, hook.mac_secret_base64, settings),
        cursor_store=FileCursorStore(tmp_path / "cursors.json"),
    )
    with Receiver(create_app(config, recorder(launches)), port) as receiver:
        mission = at.insert("Missions", {"Mission": "Application mobile"})
        assert at.ping(hook.webhook_id) == 200
        receiver.settle()
    assert [(p["kind"], p["record"]) for _, p, _ in launches] == [("mission", mission)]


def test_a_failed_launch_keeps_the_cursor_for_the_next_ping(
    at: AirtableEmulator, tmp_path: Path, launches: list[Launch], secrets: list[str]
) -> None:
    mission = at.insert("Missions", {"Mission": "Site vitrine"})
    port = free_port()
    settings = AirtableSettings(base_id=BASE, token=TOKEN, endpoint_url=at.url)
    hook = create_webhook(
        AirtableClient(settings), f"http://127.0.0.1:{port}/webhooks/airtable", ["Missions"]
    )
    secrets.append(hook.mac_secret_base64)
    cursors = FileCursorStore(tmp_path / "cursors.json")
    failing = {"left": 1}

    def launch(name: str, parameters: dict[str, Any], key: str) -> None:
        if failing["left"]:
            failing["left"] -= 1
            raise ConnectionError("Prefect injoignable")
        launches.append((name, parameters, key))

    config = ReceiverConfig(
        airtable=AirtableWebhookConfig(hook.webhook_id, hook.mac_secret_base64, settings),
        cursor_store=cursors,
    )
    with Receiver(create_app(config, launch), port) as receiver:
        at.change_record("Missions", mission, {"Mission": "Site vitrine v2"})
        assert at.ping(hook.webhook_id) == 200
        receiver.settle()
        assert launches == [] and cursors.get(hook.webhook_id) is None
        assert at.ping(hook.webhook_id) == 200
        receiver.settle()
    assert [key for _, _, key in launches] == [f"airtable:{hook.webhook_id}:1:{mission}"]
    assert cursors.get(hook.webhook_id) == 2


def test_the_webhook_is_refreshed_and_its_secret_kept_private(
    at: AirtableEmulator, tmp_path: Path, secrets: list[str]
) -> None:
    client = AirtableClient(AirtableSettings(base_id=BASE, token=TOKEN, endpoint_url=at.url))
    hook = create_webhook(client, "https://cae.example/webhooks/airtable", ["Missions", "Membres"])
    secrets.append(hook.mac_secret_base64)
    (listed,) = at.webhooks()
    assert listed["specification"] == {"options": {"filters": {"dataTypes": ["tableData"]}}}

    expiration = refresh_webhook(client, hook.webhook_id)
    assert expiration is not None and hook.expiration is not None
    assert expiration >= hook.expiration

    path = tmp_path / "secrets" / "airtable-webhook.json"
    save_webhook_secret(path, hook.webhook_id, hook.mac_secret_base64)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = load_webhook_secret(str(path))
    assert (loaded.webhook_id, loaded.mac_secret_base64) == (
        hook.webhook_id,
        hook.mac_secret_base64,
    )
    assert hook.mac_secret_base64 not in repr(loaded)


def test_a_webhook_on_one_table_is_scoped_to_it(at: AirtableEmulator, secrets: list[str]) -> None:
    client = AirtableClient(AirtableSettings(base_id=BASE, token=TOKEN, endpoint_url=at.url))
    secrets.append(create_webhook(client, "https://cae.example/h", ["Missions"]).mac_secret_base64)
    (listed,) = at.webhooks()
    filters = listed["specification"]["options"]["filters"]
    assert filters["recordChangeScope"] == at.table_id("Missions")


# ---- Airtable, refused ----------------------------------------------------------------------


PING = json.dumps(
    {
        "base": {"id": BASE},
        "webhook": {"id": "achWEBHOOK000001"},
        "timestamp": "2026-11-26T09:00:00.000Z",
    }
).encode()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Airtable-Content-MAC": ""},
        {"X-Airtable-Content-MAC": airtable_mac(PING)[:-1]},
        {"X-Airtable-Content-MAC": airtable_mac(PING).replace("hmac-sha256=", "sha256=")},
        {"X-Airtable-Content-MAC": airtable_mac(PING + b" ")},
        {"X-Airtable-Content-MAC": airtable_mac(PING, base64.b64encode(b"x" * 32).decode())},
    ],
    ids=["missing", "empty", "truncated", "other-scheme", "other-body", "other-secret"],
)
def test_an_airtable_ping_without_its_signature_is_refused(
    client: TestClient, launches: list[Launch], headers: dict[str, str]
) -> None:
    response = post(client, "/webhooks/airtable", PING, **headers)
    assert response.status_code == 401
    assert "erreur" in response.json()
    assert launches == []
    assert not client.app.state.airtable_changes.busy  # type: ignore[attr-defined]


def test_a_signed_ping_for_another_webhook_is_refused(
    client: TestClient, launches: list[Launch]
) -> None:
    body = PING.replace(b"achWEBHOOK000001", b"achSOMEOTHERHOOK")
    response = post(
        client, "/webhooks/airtable", body, **{"X-Airtable-Content-MAC": airtable_mac(body)}
    )
    assert response.status_code == 400
    assert launches == []


@pytest.mark.parametrize("path", ["/webhooks/airtable", "/webhooks/notion", "/webhooks/generic"])
def test_an_oversized_body_is_refused(client: TestClient, path: str) -> None:
    body = b'{"x": "' + b"a" * (64 * 1024) + b'"}'
    response = post(client, path, body, **{"X-Airtable-Content-MAC": airtable_mac(body)})
    assert response.status_code == 413
    assert response.json() == {"erreur": "Corps de requête trop volumineux."}


def test_an_oversized_body_without_content_length_is_refused(client: TestClient) -> None:
    chunks = iter([b'{"x": "', b"a" * 40_000, b"a" * 40_000, b'"}'])
    response = client.post(
        "/webhooks/airtable", content=chunks, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.mark.parametrize("path", ["/webhooks/airtable", "/webhooks/notion", "/webhooks/generic"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", ""])
def test_a_body_that_is_not_json_is_refused(
    client: TestClient, launches: list[Launch], path: str, content_type: str
) -> None:
    headers = {
        "Content-Type": content_type,
        "X-Airtable-Content-MAC": airtable_mac(PING),
        "X-CAE-Secret": GENERIC_SECRET,
    }
    response = client.post(path, content=PING, headers=headers)
    assert response.status_code == 415
    assert launches == []


def test_a_json_content_type_with_a_charset_is_accepted(
    client: TestClient, launches: list[Launch]
) -> None:
    body = json.dumps({"table": "Missions", "record": "recMISSION000001", "source": "airtable"})
    response = client.post(
        "/webhooks/generic",
        content=body.encode(),
        headers={"Content-Type": "application/json; charset=utf-8", "X-CAE-Secret": GENERIC_SECRET},
    )
    assert response.status_code == 200
    assert len(launches) == 1


# ---- Notion ---------------------------------------------------------------------------------


def handshake(client: TestClient, token: str = NOTION_TOKEN) -> httpx.Response:
    return post(client, "/webhooks/notion", json.dumps({"verification_token": token}).encode())


def test_the_notion_handshake_then_a_signed_event_launches_one_run(
    client: TestClient, tmp_path: Path, launches: list[Launch], caplog: pytest.LogCaptureFixture
) -> None:
    assert handshake(client).status_code == 200
    assert "jeton de vérification reçu" in caplog.text
    stored = tmp_path / "notion-token"
    assert stored.read_text().strip() == NOTION_TOKEN
    assert stat.S_IMODE(os.stat(stored).st_mode) == 0o600

    body = notion_event("evt-0001", MISSIONS_SOURCE.replace("-", ""))
    signature = notion_signature(body)
    response = post(client, "/webhooks/notion", body, **{"X-Notion-Signature": signature})
    assert response.status_code == 200
    expected = (
        DEPLOYMENT,
        {"kind": "mission", "record": MISSION_PAGE, "source": "notion"},
        "notion:evt-0001",
    )
    assert launches == [expected]

    # Delivered twice: the same key, so Prefect returns the same flow run.
    post(client, "/webhooks/notion", body, **{"X-Notion-Signature": signature})
    assert launches == [expected, expected]
    assert signature not in caplog.text


def test_a_notion_event_outside_missions_and_members_launches_nothing(
    client: TestClient, launches: list[Launch]
) -> None:
    handshake(client)
    for body in (
        notion_event("evt-0002", "ffffffff-0000-4000-8000-000000000000"),
        notion_event("evt-0003", MISSIONS_SOURCE, kind="database.schema_updated"),
        notion_event("evt-0004", MISSIONS_SOURCE, kind="comment.created"),
    ):
        response = post(
            client, "/webhooks/notion", body, **{"X-Notion-Signature": notion_signature(body)}
        )
        assert response.status_code == 200
    assert launches == []


def test_a_notion_member_event_is_launched_as_a_member(
    client: TestClient, launches: list[Launch]
) -> None:
    handshake(client)
    body = notion_event("evt-0005", MEMBERS_SOURCE, kind="page.created")
    post(client, "/webhooks/notion", body, **{"X-Notion-Signature": notion_signature(body)})
    assert [(p["kind"], key) for _, p, key in launches] == [("member", "notion:evt-0005")]


@pytest.mark.parametrize(
    "signature",
    [None, "", notion_signature(b"{}"), notion_signature(b"", "secret_other")[:-2]],
    ids=["missing", "empty", "other-body", "truncated"],
)
def test_a_notion_event_without_its_signature_is_refused(
    client: TestClient, launches: list[Launch], signature: str | None
) -> None:
    handshake(client)
    body = notion_event("evt-0006", MISSIONS_SOURCE)
    headers = {} if signature is None else {"X-Notion-Signature": signature}
    assert post(client, "/webhooks/notion", body, **headers).status_code == 401
    assert launches == []


def test_a_notion_event_before_the_handshake_is_refused(
    client: TestClient, launches: list[Launch]
) -> None:
    body = notion_event("evt-0007", MISSIONS_SOURCE)
    response = post(
        client, "/webhooks/notion", body, **{"X-Notion-Signature": notion_signature(body)}
    )
    assert response.status_code == 403
    assert launches == []


def test_an_unsigned_handshake_cannot_replace_the_stored_token(
    client: TestClient, tmp_path: Path, launches: list[Launch]
) -> None:
    handshake(client)
    assert handshake(client).status_code == 200  # Notion repeating itself
    assert handshake(client, "secret_forged").status_code == 409
    assert (tmp_path / "notion-token").read_text().strip() == NOTION_TOKEN
    body = notion_event("evt-0008", MISSIONS_SOURCE)
    forged = notion_signature(body, "secret_forged")
    assert (
        post(client, "/webhooks/notion", body, **{"X-Notion-Signature": forged}).status_code == 401
    )
    assert launches == []


# ---- generic --------------------------------------------------------------------------------


def generic_body(**fields: str) -> bytes:
    return json.dumps(
        {"table": "Missions", "record": "recMISSION000001", "source": "airtable", **fields}
    ).encode()


def test_a_generic_call_with_the_secret_launches_one_run(
    client: TestClient, launches: list[Launch]
) -> None:
    body = generic_body(event="automation-42")
    response = post(client, "/webhooks/generic", body, **{"X-CAE-Secret": GENERIC_SECRET})
    assert response.status_code == 200
    assert launches == [
        (
            DEPLOYMENT,
            {"kind": "mission", "record": "recMISSION000001", "source": "airtable"},
            "generic:automation-42",
        )
    ]


def test_a_generic_call_without_an_event_id_is_keyed_by_its_body(
    client: TestClient, launches: list[Launch]
) -> None:
    body = generic_body(table="Membres", record="recMEMBER0000001", source="local")
    post(client, "/webhooks/generic", body, **{"X-CAE-Secret": GENERIC_SECRET})
    post(client, "/webhooks/generic", body, **{"X-CAE-Secret": GENERIC_SECRET})
    key = "generic:" + hashlib.sha256(body).hexdigest()
    assert (
        launches
        == [(DEPLOYMENT, {"kind": "member", "record": "recMEMBER0000001", "source": "local"}, key)]
        * 2
    )


@pytest.mark.parametrize(
    "headers",
    [{}, {"X-CAE-Secret": ""}, {"X-CAE-Secret": GENERIC_SECRET[:-1]}, {"X-CAE-Secret": "x"}],
    ids=["missing", "empty", "truncated", "wrong"],
)
def test_a_generic_call_without_the_secret_is_refused(
    client: TestClient, launches: list[Launch], headers: dict[str, str]
) -> None:
    assert post(client, "/webhooks/generic", generic_body(), **headers).status_code == 401
    assert launches == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"table": "Factures"}, "Table inconnue"),
        ({"record": ""}, "Identifiant de fiche invalide"),
        ({"source": "excel"}, "Source inconnue"),
        ({"event": "a b"}, "Identifiant d'évènement invalide"),
        ({"extra": "1"}, "Champ inconnu"),
    ],
)
def test_a_generic_call_with_bad_fields_is_refused_in_french(
    client: TestClient, launches: list[Launch], fields: dict[str, str], message: str
) -> None:
    response = post(
        client, "/webhooks/generic", generic_body(**fields), **{"X-CAE-Secret": GENERIC_SECRET}
    )
    assert response.status_code == 422
    assert response.json()["erreur"].startswith(message)
    assert launches == []


def test_a_failing_launcher_is_logged_without_details(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def launch(name: str, parameters: dict[str, Any], key: str) -> None:
        raise RuntimeError("http://prefect.internal:4200 refused the api key sk-123")

    with TestClient(create_app(receiver_config(tmp_path), launch)) as test_client:
        response = post(
            test_client,
            "/webhooks/generic",
            generic_body(event="e1"),
            **{"X-CAE-Secret": GENERIC_SECRET},
        )
    assert response.status_code == 202
    assert "sk-123" not in response.text and "sk-123" not in caplog.text
    assert "RuntimeError" in caplog.text and "generic:e1" in caplog.text


def test_unknown_routes_and_methods_answer_in_french(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
    assert client.get("/webhooks/generic").json() == {"erreur": "Méthode non autorisée."}
    assert client.post("/ailleurs").json() == {"erreur": "Adresse inconnue."}


def test_an_unconfigured_sender_is_not_found(tmp_path: Path, launches: list[Launch]) -> None:
    config = ReceiverConfig(generic_secret=GENERIC_SECRET)
    with TestClient(create_app(config, recorder(launches))) as test_client:
        for path in ("/webhooks/airtable", "/webhooks/notion"):
            assert post(test_client, path, PING).status_code == 404


# ---- anything at all ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
near_valid = st.fixed_dictionaries(
    {},
    optional={
        "table": st.sampled_from(["Missions", "Membres", "Factures"]) | st.text(max_size=10),
        "record": st.text(max_size=20),
        "source": st.sampled_from(["airtable", "notion", "local"]) | st.text(max_size=8),
        "event": st.text(max_size=20),
        "verification_token": st.text(max_size=20),
        "id": st.text(max_size=20),
        "type": st.sampled_from(["page.created", "page.properties_updated"]),
        "entity": st.fixed_dictionaries({"id": st.text(max_size=36)}),
        "data": st.fixed_dictionaries(
            {"parent": st.fixed_dictionaries({"id": st.sampled_from([MISSIONS_SOURCE, "x"])})}
        ),
        "base": st.fixed_dictionaries({"id": st.sampled_from([BASE, "app"])}),
        "webhook": st.fixed_dictionaries({"id": st.sampled_from(["achWEBHOOK000001", "ach"])}),
    },
)
bodies = (
    st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | near_valid.map(lambda v: json.dumps(v).encode())
    | st.integers(1, 5000).map(lambda n: b"[" * n)
)
header_values = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80).map(
    lambda text: text.encode("latin-1")
)
headers = st.fixed_dictionaries(
    {"content-type": st.just(b"application/json") | st.just(b"text/plain") | header_values},
    optional={
        "x-airtable-content-mac": header_values,
        "x-notion-signature": header_values,
        "x-cae-secret": header_values,
    },
)


def test_random_requests_never_fail_the_server_nor_launch(
    tmp_path: Path, launches: list[Launch]
) -> None:
    config = receiver_config(tmp_path)
    assert config.notion is not None
    config.notion.tokens.set(NOTION_TOKEN)
    with TestClient(
        create_app(config, recorder(launches)), raise_server_exceptions=False
    ) as test_client:

        @settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
        @example("/webhooks/notion", b"[" * 5000, {"content-type": b"application/json"})
        @example("/webhooks/generic", b"\xff\xfe", {"content-type": b"application/json"})
        @given(
            path=st.sampled_from(["/webhooks/airtable", "/webhooks/notion", "/webhooks/generic"]),
            body=bodies,
            headers=headers,
        )
        def never_fails(path: str, body: bytes, headers: dict[str, bytes]) -> None:
            response = test_client.post(path, content=body, headers=headers)
            assert 400 <= response.status_code < 500, response.text
            assert set(response.json()) == {"erreur"}
            assert launches == []

        never_fails()
