"""``cae serve`` end to end: a real Prefect server, the served deployments, the webhook
receiver, the Airtable emulator. A signed ping becomes a targeted run that issues the notice."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests

from emulators.airtable import AirtableEmulator
from emulators.notion import NotionEmulator
from tests.support import serving
from tests.support.airtable_example import BASE, PENALTY, TOKEN, build_example_base, environment
from tests.support.loopback import free_port
from tests.support.notion_example import TOKEN as NOTION_TOKEN
from tests.support.notion_example import build_workspace
from tests.support.notion_example import environment as notion_environment

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

MISSION = "Outil de facturation Artisans du 11e"
OTHER = "Refonte intranet Mairie de Montreuil"
SECRET = "generic-shared-secret-for-tests"


def wait_for(predicate, timeout: float = 240.0):
    try:
        return serving.wait_for(predicate, timeout)
    except AssertionError:
        runs = [(r.name, r.state_name, r.parameters) for r in targeted_runs()]
        raise AssertionError(f"timed out; targeted runs: {runs}") from None


def targeted_runs() -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["targeted"])))


def sent_row(emulator: AirtableEmulator, key: str) -> dict | None:
    rows = [r for r in emulator.records("Versements") if r["fields"].get("Clé") == key]
    return rows[0] if rows and rows[0]["fields"].get("Statut") == "sent" else None


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    from prefect.settings import PREFECT_API_URL

    root = tmp_path_factory.mktemp("serve")
    port = free_port()
    with (
        AirtableEmulator(TOKEN, BASE, penalty_seconds=PENALTY) as emulator,
        NotionEmulator(NOTION_TOKEN) as notion,
    ):
        build_example_base(emulator)
        workspace = build_workspace(notion, root)  # root/cae.toml holds the Notion ids
        webhook = serving.register_webhook(emulator, BASE, port, root / "webhook.json")
        env = {
            **os.environ,
            **environment(emulator),
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "CAE_AIRTABLE_WEBHOOK": str(root / "webhook.json"),
            "CAE_WEBHOOK_SECRET": SECRET,
            "CAE_STATE_DIR": str(root / "state"),
            **notion_environment(notion),
            "CAE_NOTION_MISSIONS_DATA_SOURCE": workspace.report.data_sources["missions"],
            "CAE_NOTION_MEMBERS_DATA_SOURCE": workspace.report.data_sources["members"],
        }
        arguments = ["--source", "airtable", "--out", str(root / "out"), "--data", str(root)]
        with serving.serving(arguments, env, port, root / "serve.log"):
            yield {
                "emulator": emulator,
                "port": port,
                "webhook": webhook,
                "root": root,
                "notion": workspace,
            }


def mission_id(emulator: AirtableEmulator, title: str) -> str:
    return next(r["id"] for r in emulator.records("Missions") if r["fields"]["Mission"] == title)


def test_a_signed_airtable_ping_issues_the_notice_once(served):
    emulator = served["emulator"]
    record = mission_id(emulator, MISSION)
    emulator.change_record("Missions", record, {"Étape": "Mi-parcours"})
    started = time.monotonic()
    assert emulator.ping(served["webhook"]) == 200
    row = wait_for(lambda: sent_row(emulator, f"payout_mid:{record}"))
    elapsed = time.monotonic() - started
    print(f"\nwebhook → notice sent: {elapsed:.1f} s")
    assert row["fields"]["Montant"] == 900.0
    (run,) = [r for r in targeted_runs() if r.parameters.get("record") == record]
    assert run.name == f"mission-{MISSION}"
    wait_for(lambda: [r for r in targeted_runs() if r.id == run.id and r.state.is_completed()])

    assert emulator.ping(served["webhook"]) == 200  # the same ping again: no new payload
    time.sleep(3)
    assert len([r for r in targeted_runs() if r.parameters.get("record") == record]) == 1
    assert len([r for r in emulator.records("Versements") if record in r["fields"]["Clé"]]) == 1


def test_a_badly_signed_ping_is_rejected_and_starts_nothing(served):
    before = len(targeted_runs())
    body = json.dumps(
        {"base": {"id": BASE}, "webhook": {"id": served["webhook"]}, "timestamp": "x"}
    )
    answer = requests.post(
        f"http://127.0.0.1:{served['port']}/webhooks/airtable",
        data=body,
        headers={"Content-Type": "application/json", "X-Airtable-Content-MAC": "hmac-sha256=00"},
        timeout=5,
    )
    assert answer.status_code == 401
    time.sleep(2)
    assert len(targeted_runs()) == before


def test_the_generic_endpoint_starts_one_run_per_event(served):
    emulator = served["emulator"]
    record = mission_id(emulator, OTHER)
    body = {"table": "Missions", "record": record, "source": "airtable", "event": "evt-1"}
    url = f"http://127.0.0.1:{served['port']}/webhooks/generic"
    assert requests.post(url, json=body, timeout=5).status_code == 401  # no secret
    for _ in range(3):
        # The receiver answers once Prefect has the run: on a busy machine that took > 5 s.
        answer = requests.post(url, json=body, headers={"X-CAE-Secret": SECRET}, timeout=60)
        assert answer.status_code in (200, 202)
    wait_for(lambda: sent_row(emulator, f"payout_mid:{record}"))
    runs = [r for r in targeted_runs() if r.parameters.get("record") == record]
    assert len(runs) == 1, [(r.name, r.state_name, r.idempotency_key) for r in runs]


def test_a_signed_notion_event_issues_the_notice_once(served):
    workspace = served["notion"]
    notion = workspace.emulator
    url = f"http://127.0.0.1:{served['port']}/webhooks/notion"
    page = workspace.page_id("missions", MISSION)
    key = f"payout_mid:{page}"

    def sent() -> bool:
        rows = [r for r in workspace.ledger()["Versements"] if r.get("Clé") == key]
        return bool(rows) and rows[0].get("Statut") == "sent"

    token = notion.webhook_verification(url)  # the subscription handshake, unsigned
    notion.update(page, {"Étape": {"select": {"name": "Mi-parcours"}}})
    event = {"id": "evt-notion-1", **notion.page_event(page)}
    assert notion.send_event(url, "not-the-token", event) == 401
    assert notion.send_event(url, token, event) == 200
    wait_for(sent)
    for _ in range(2):  # Notion may deliver an event twice
        assert notion.send_event(url, token, event) == 200
    time.sleep(3)
    runs = [r for r in targeted_runs() if r.parameters.get("record") == page]
    assert len(runs) == 1, [(r.name, r.state_name) for r in runs]
    assert runs[0].parameters["source"] == "notion"


QUEUED = [
    "Portail adhérents Fédération des Épiceries",
    "Boutique en ligne Fromagerie Lutèce",
    "Application Club de Judo de Bagnolet",
]


def states(run_id) -> list:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run_states(run_id)


def test_webhook_runs_run_in_serves_process_never_the_runners(served):
    """Three events at once: the runs queue in ``cae serve`` behind one another, seconds each,
    while the runner polls every second. Each is claimed and run by ``cae serve`` itself
    (``cae/in_process.py``): had the runner found one first, its Pending state would lack
    ``CLAIMED`` (and the deployment's limit would have sent it to AwaitingConcurrencySlot)."""
    from cae.in_process import CLAIMED

    emulator = served["emulator"]
    records = [mission_id(emulator, title) for title in QUEUED]
    url = f"http://127.0.0.1:{served['port']}/webhooks/generic"
    for number, record in enumerate(records):
        body = {"table": "Missions", "record": record, "source": "airtable", "event": f"q-{number}"}
        answer = requests.post(url, json=body, headers={"X-CAE-Secret": SECRET}, timeout=60)
        assert answer.status_code == 200

    def finished() -> list:
        runs = [r for r in targeted_runs() if r.parameters.get("record") in records]
        return runs if len(runs) == 3 and all(r.state.is_final() for r in runs) else []

    for run in wait_for(finished):
        history = [(s.type.value, s.name, s.message) for s in states(run.id)]
        assert run.state.is_completed(), history
        pending = [h for h in history if h[0] == "PENDING"]
        assert pending == [("PENDING", "Pending", CLAIMED)], history
        assert not [h for h in history if h[1] == "AwaitingConcurrencySlot"], history
