"""The staff hear of problems without opening the UI: on the real Prefect server (its triggers
and actions services run in the test harness's server too), the automations of
``cae/notifications.py`` post one message to a loopback webhook for a failed run, and one for a
run that ends tagged ``erreurs-de-donnees``, each naming the run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from prefect.client.orchestration import get_client

from cae.notifications import FAILED, REVIEW, WEBHOOK_URL_VARIABLE, setup
from flows.daily import daily
from tests.support.loopback import ServedApp

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

#: How long the server may take from a run's end to the webhook (events, triggers, actions).
DEADLINE_SECONDS = 60
#: How long to keep listening after the first message, to see that no second one comes.
QUIET_SECONDS = 5


class Receiver:
    """A webhook that keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.received.append(json.loads(body))
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def wait_for(self, count: int) -> list[dict[str, Any]]:
        """The messages once ``count`` arrived (bounded), and a quiet spell after."""
        deadline = time.monotonic() + DEADLINE_SECONDS
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(QUIET_SECONDS)
        return list(self.received)


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    """The loopback webhook, with the automations pointing at it (removed afterwards, so that
    the other tests' runs notify nobody)."""
    hook = Receiver()
    with ServedApp(hook) as served:
        monkeypatch.setenv(WEBHOOK_URL_VARIABLE, f"{served.url}/hooks/equipe")
        assert setup() == [f"{FAILED} : créée", f"{REVIEW} : créée"]
        assert setup() == [f"{FAILED} : mise à jour", f"{REVIEW} : mise à jour"]  # by name
        try:
            yield hook
        finally:
            with get_client(sync_client=True) as client:
                for name in (FAILED, REVIEW):
                    (automation,) = client.read_automations_by_name(name)  # never two
                    client.delete_automation(automation.id)


def flow_run_name(state: Any) -> tuple[str, str]:
    run_id = state.state_details.flow_run_id
    with get_client(sync_client=True) as client:
        return str(run_id), client.read_flow_run(run_id).name


def test_a_failed_run_and_a_run_to_review_each_notify_once(receiver: Receiver, tmp_path: Path):
    failed = daily(data=str(tmp_path / "absent"), as_of=date(2031, 1, 2), return_state=True)
    assert failed.is_failed()
    run_id, name = flow_run_name(failed)
    (message,) = receiver.wait_for(1)
    text = message["text"]
    print("notification (échec) :", json.dumps(message, ensure_ascii=False))
    assert text.startswith(f"**Exécution « {name} » en échec**\n"), text
    assert "Dossier de données introuvable" in text  # the run's own French message
    assert run_id in text  # the link to the run in the UI

    # The bundled example has data errors: the run completes tagged erreurs-de-donnees.
    completed = daily(as_of=date(2026, 11, 26), out=str(tmp_path / "out"), return_state=True)
    assert completed.is_completed()
    run_id, name = flow_run_name(completed)
    first, second = receiver.wait_for(2)
    assert first == message
    text = second["text"]
    print("notification (à vérifier) :", json.dumps(second, ensure_ascii=False))
    assert text.startswith(f"**Exécution « {name} » : à vérifier**\n"), text
    assert "erreurs-de-donnees" in text and run_id in text
