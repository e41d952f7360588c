"""Each webhook handler on its own (``cae/webhooks/``), called with a real Starlette request and
no app around it; then the app's error policy: a bad request is its 4xx, a bug a logged 500.

The requests are built from an ASGI scope and a body, as a server would hand them over; the
stores are real files; a plain list records the runs launched.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.responses import JSONResponse
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.types import Message

from cae.webhooks.airtable import AirtableChanges, AirtableHandler, AirtableWebhookConfig
from cae.webhooks.app import INTERNAL_ERROR, Health, NotConfigured, create_app
from cae.webhooks.generic import GenericHandler
from cae.webhooks.http import BodyLimits, Rejected
from cae.webhooks.launcher import TargetedRuns
from cae.webhooks.notion import NotionHandler, NotionWebhookConfig
from cae.webhooks.settings import ReceiverConfig, receiver_config_from_environment
from cae.webhooks.stores import FileCursorStore, FileTokenStore
from integrations.airtable import AirtableSettings

DEPLOYMENT = "targeted/targeted"
SECRET = "generic-handler-secret-31f7"
NOTION_TOKEN = "secret_notion-handler-token-9b2e"
MISSIONS_SOURCE = "4a2b3c4d-0000-4000-8000-00000000aaaa"
MEMBERS_SOURCE = "4a2b3c4d-0000-4000-8000-00000000bbbb"
PAGE = "5f0e1d2c-1111-4000-8000-000000000001"
BASE, WEBHOOK = "appHANDLERS", "achHANDLER000001"
MAC_SECRET = base64.b64encode(b"the handler tests' mac secret!!!").decode()
LIMITS = BodyLimits()

Launch = tuple[str, dict[str, Any], str]


def request(body: bytes, **headers: str) -> Request:
    """A POST as uvicorn hands it to the app: JSON, with its Content-Length."""
    sent = {"content-type": "application/json", "content-length": str(len(body)), **headers}
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "query_string": b"",
        "headers": [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in sent.items()],
    }
    delivered = False

    async def receive() -> Message:
        nonlocal delivered
        if delivered:
            return {"type": "http.disconnect"}
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return Request(scope, receive)


def call(handler: Callable[[Request], Awaitable[JSONResponse]], req: Request) -> JSONResponse:
    return asyncio.run(handler(req))


def content(response: JSONResponse) -> Any:
    return json.loads(bytes(response.body))


@pytest.fixture
def launches() -> list[Launch]:
    return []


@pytest.fixture
def runs(launches: list[Launch]) -> TargetedRuns:
    return TargetedRuns(
        lambda name, parameters, key: launches.append((name, parameters, key)), DEPLOYMENT
    )


def sign(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


# ---- generic ----------------------------------------------------------------------------------


def test_the_generic_handler_launches_the_run_its_body_names(
    runs: TargetedRuns, launches: list[Launch]
) -> None:
    handler = GenericHandler(SECRET, LIMITS, runs)
    body = json.dumps({"table": "Membres", "record": "recMEMBER0000001", "source": "local"})
    response = call(handler, request(body.encode(), **{"X-CAE-Secret": SECRET}))
    assert (response.status_code, content(response)) == (200, {"statut": "lancé"})
    key = "generic:" + hashlib.sha256(body.encode()).hexdigest()
    assert launches == [
        (DEPLOYMENT, {"kind": "member", "record": "recMEMBER0000001", "source": "local"}, key)
    ]


def test_the_generic_handler_refuses_a_wrong_secret(
    runs: TargetedRuns, launches: list[Launch]
) -> None:
    handler = GenericHandler(SECRET, LIMITS, runs)
    with pytest.raises(Rejected) as refused:
        call(handler, request(b"{}", **{"X-CAE-Secret": SECRET + "x"}))
    assert (refused.value.status, refused.value.message) == (401, "Secret invalide.")
    assert launches == []


# ---- Notion -----------------------------------------------------------------------------------


def notion_event(event_id: str) -> bytes:
    return json.dumps(
        {
            "id": event_id,
            "type": "page.created",
            "entity": {"id": PAGE, "type": "page"},
            "data": {"parent": {"id": MEMBERS_SOURCE, "type": "data_source"}},
        }
    ).encode()


@pytest.fixture
def tokens(tmp_path: Path) -> FileTokenStore:
    return FileTokenStore(tmp_path / "notion-token")


@pytest.fixture
def notion(tokens: FileTokenStore, runs: TargetedRuns) -> NotionHandler:
    return NotionHandler(NotionWebhookConfig(tokens, MISSIONS_SOURCE, MEMBERS_SOURCE), LIMITS, runs)


def test_the_notion_handler_keeps_the_token_then_launches_a_signed_event(
    notion: NotionHandler, tokens: FileTokenStore, launches: list[Launch]
) -> None:
    handler = notion
    handshake = json.dumps({"verification_token": NOTION_TOKEN}).encode()
    assert content(call(handler, request(handshake))) == {"statut": "jeton enregistré"}
    assert tokens.get() == NOTION_TOKEN

    body = notion_event("evt-handler-1")
    signature = "sha256=" + sign(NOTION_TOKEN.encode(), body)
    response = call(handler, request(body, **{"X-Notion-Signature": signature}))
    assert response.status_code == 200
    assert launches == [
        (DEPLOYMENT, {"kind": "member", "record": PAGE, "source": "notion"}, "notion:evt-handler-1")
    ]


def test_the_notion_handler_refuses_an_event_before_the_handshake(
    notion: NotionHandler, launches: list[Launch]
) -> None:
    handler = notion
    body = notion_event("evt-handler-2")
    signature = "sha256=" + sign(NOTION_TOKEN.encode(), body)
    with pytest.raises(Rejected) as refused:
        call(handler, request(body, **{"X-Notion-Signature": signature}))
    assert refused.value.status == 403
    assert launches == []


# ---- Airtable ---------------------------------------------------------------------------------


def airtable_changes(tmp_path: Path, launches: list[Launch]) -> AirtableChanges:
    """Never reaches Airtable: the tests below stop before the background reading."""
    settings = AirtableSettings(
        base_id=BASE, token="patHANDLERS", endpoint_url="http://127.0.0.1:9"
    )
    return AirtableChanges(
        AirtableWebhookConfig(WEBHOOK, MAC_SECRET, settings),
        FileCursorStore(tmp_path / "cursors.json"),
        lambda name, parameters, key: launches.append((name, parameters, key)),
        DEPLOYMENT,
    )


def airtable_ping(base: str = BASE) -> tuple[bytes, str]:
    body = json.dumps({"base": {"id": base}, "webhook": {"id": WEBHOOK}}).encode()
    return body, "hmac-sha256=" + sign(base64.b64decode(MAC_SECRET), body)


def test_the_airtable_handler_answers_a_ping_and_schedules_one_reading(
    tmp_path: Path, launches: list[Launch]
) -> None:
    changes = airtable_changes(tmp_path, launches)
    handler = AirtableHandler(changes, LIMITS)
    body, mac = airtable_ping()
    first = call(handler, request(body, **{"X-Airtable-Content-MAC": mac}))
    assert (first.status_code, content(first)) == (200, {"statut": "reçu"})
    assert first.background is not None and changes.busy
    # A second ping while the reading waits to start is served by it.
    second = call(handler, request(body, **{"X-Airtable-Content-MAC": mac}))
    assert second.status_code == 200 and second.background is None
    assert launches == []


def test_the_airtable_handler_refuses_a_ping_for_another_base(
    tmp_path: Path, launches: list[Launch]
) -> None:
    changes = airtable_changes(tmp_path, launches)
    body, mac = airtable_ping(base="appSOMEONEELSE")
    with pytest.raises(Rejected) as refused:
        call(AirtableHandler(changes, LIMITS), request(body, **{"X-Airtable-Content-MAC": mac}))
    assert refused.value.status == 400
    assert not changes.busy


# ---- the others -------------------------------------------------------------------------------


def test_an_unconfigured_sender_and_the_health_check() -> None:
    with pytest.raises(Rejected) as refused:
        call(NotConfigured("Webhook Notion non configuré."), request(b"{}"))
    assert (refused.value.status, refused.value.message) == (404, "Webhook Notion non configuré.")
    health = asyncio.run(Health(None).respond())
    assert content(health) == {"statut": "ok", "airtable_en_cours": False}


def test_a_failed_launch_is_answered_202(caplog: pytest.LogCaptureFixture) -> None:
    def unreachable(name: str, parameters: dict[str, Any], key: str) -> None:
        raise ConnectionError("Prefect injoignable")

    response = asyncio.run(
        TargetedRuns(unreachable, DEPLOYMENT).start("mission", "rec1", "local", "k1")
    )
    assert (response.status_code, content(response)) == (202, {"statut": "reçu, lancement différé"})
    assert "ConnectionError" in caplog.text


def test_the_settings_read_from_the_environment(tmp_path: Path) -> None:
    environ = {
        "CAE_STATE_DIR": str(tmp_path / "state"),
        "CAE_WEBHOOK_SECRET": SECRET,
        "CAE_NOTION_MISSIONS_DATA_SOURCE": MISSIONS_SOURCE,
        "CAE_NOTION_MEMBERS_DATA_SOURCE": MEMBERS_SOURCE,
    }
    config = receiver_config_from_environment(None, None, environ)
    assert config.generic_secret == SECRET and config.airtable is None
    assert config.notion is not None and config.notion.members_data_source == MEMBERS_SOURCE
    config.notion.tokens.set(NOTION_TOKEN)
    assert (tmp_path / "state" / "notion-token").read_text().strip() == NOTION_TOKEN
    assert receiver_config_from_environment(None, None, {}) == ReceiverConfig()


# ---- a bug is a 500, never a 400 --------------------------------------------------------------


def test_a_store_that_fails_is_a_500_logged_with_its_traceback(
    tmp_path: Path, launches: list[Launch], caplog: pytest.LogCaptureFixture
) -> None:
    # The token's folder is a file: saving the token fails for real (NotADirectoryError).
    (tmp_path / "state").write_text("not a folder")
    tokens = FileTokenStore(tmp_path / "state" / "notion-token")
    config = ReceiverConfig(notion=NotionWebhookConfig(tokens, MISSIONS_SOURCE, MEMBERS_SOURCE))
    app = create_app(config, lambda name, parameters, key: launches.append((name, parameters, key)))
    caplog.set_level(logging.INFO)
    with TestClient(app) as client:
        response = client.post(
            "/webhooks/notion",
            content=json.dumps({"verification_token": NOTION_TOKEN}).encode(),
            headers={"Content-Type": "application/json"},
        )
    assert response.status_code == 500
    assert response.json() == {"erreur": INTERNAL_ERROR}
    (logged,) = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged.exc_info is not None and logged.exc_info[0] is NotADirectoryError
    assert "Traceback (most recent call last)" in caplog.text
    assert "Requête invalide" not in caplog.text and launches == []


def test_a_token_store_that_cannot_be_read_is_a_500_too(
    tmp_path: Path, launches: list[Launch], caplog: pytest.LogCaptureFixture
) -> None:
    # The token's path is a folder: reading it fails for real (IsADirectoryError).
    (tmp_path / "notion-token").mkdir()
    tokens = FileTokenStore(tmp_path / "notion-token")
    config = ReceiverConfig(notion=NotionWebhookConfig(tokens, MISSIONS_SOURCE, MEMBERS_SOURCE))
    app = create_app(config, lambda name, parameters, key: launches.append((name, parameters, key)))
    body = notion_event("evt-handler-3")
    with TestClient(app) as client:
        response = client.post(
            "/webhooks/notion",
            content=body,
            headers={
                "Content-Type": "application/json",
                "X-Notion-Signature": "sha256=" + sign(NOTION_TOKEN.encode(), body),
            },
        )
    assert (response.status_code, response.json()) == (500, {"erreur": INTERNAL_ERROR})
    assert "IsADirectoryError" in caplog.text and "Traceback" in caplog.text
    assert launches == []


def test_a_bad_request_is_still_its_4xx(tmp_path: Path, launches: list[Launch]) -> None:
    tokens = FileTokenStore(tmp_path / "notion-token")
    config = ReceiverConfig(notion=NotionWebhookConfig(tokens, MISSIONS_SOURCE, MEMBERS_SOURCE))
    app = create_app(config, lambda name, parameters, key: launches.append((name, parameters, key)))
    with TestClient(app) as client:
        response = client.post(
            "/webhooks/notion", content=b"{not json", headers={"Content-Type": "application/json"}
        )
    assert (response.status_code, response.json()) == (400, {"erreur": "Corps JSON invalide."})
