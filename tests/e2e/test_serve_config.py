"""``cae serve --config`` end to end: every run it serves reads that file, not the working
folder's. A real Prefect server, ``cae serve`` in its own process started in an empty folder
with ``--config`` pointing to a file beside it, the Airtable emulator, and a loopback SMTP
server reached through a Prefect ``EmailServerCredentials`` block named by ``--smtp-block``.

A signed Airtable ping starts a targeted run; a run started by hand (as from the UI, naming
only the mission) starts another. Both letters carry the file's cooperative name, sender and
staff copy.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from emulators.airtable import AirtableEmulator
from tests.support.airtable_example import BASE, PENALTY, TOKEN, build_example_base, environment
from tests.support.loopback import free_port
from tests.support.serving import (
    environment_without,
    register_webhook,
    save_smtp_block,
    serving,
    wait_for,
)
from tests.support.smtp_server import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

PINGED = "Outil de facturation Artisans du 11e"
BY_HAND = "Refonte intranet Mairie de Montreuil"
NAME = "Coopérative Les Essaims du Rhône"
SENDER = "envois@essaims.example"
STAFF = "appui@essaims.example"
CONFIG = f"""\
[cooperative]
name = "{NAME}"
city = "Lyon"
signatory_name = "Jeanne Roux"
signatory_role = "Co-gérante"
email = "{SENDER}"
staff_email = "{STAFF}"

[airtable]
base_id = "{BASE}"
"""
BLOCK = "cae-serve-config-smtp"


def mission_id(emulator: AirtableEmulator, title: str) -> str:
    return next(r["id"] for r in emulator.records("Missions") if r["fields"]["Mission"] == title)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory):
    from prefect.settings import PREFECT_API_URL

    root = tmp_path_factory.mktemp("serve-config")
    work, conf = root / "work", root / "conf"
    work.mkdir()
    conf.mkdir()
    (conf / "cae.toml").write_text(CONFIG, encoding="utf-8")
    port = free_port()
    with AirtableEmulator(TOKEN, BASE, penalty_seconds=PENALTY) as emulator, SmtpServer() as smtp:
        save_smtp_block(BLOCK, smtp.port)
        build_example_base(emulator)
        webhook = register_webhook(emulator, BASE, port, root / "webhook.json")
        # No SMTP, no base, no cae.toml from the environment: only what serve passes on.
        env = environment_without("CAE_", "AIRTABLE_")
        env.update(
            {
                **environment(emulator),
                "PREFECT_API_URL": str(PREFECT_API_URL.value()),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "PREFECT_RUNNER_POLL_FREQUENCY": "1",
                "CAE_AIRTABLE_WEBHOOK": str(root / "webhook.json"),
                "CAE_STATE_DIR": str(root / "state"),
            }
        )
        del env["AIRTABLE_BASE_ID"]  # the base comes from the file's [airtable] base_id
        arguments = [
            "--source", "airtable", "--out", "out", "--config", "../conf/cae.toml",
            "--smtp-block", BLOCK,
        ]  # fmt: skip
        with serving(arguments, env, port, root / "serve.log", cwd=work):
            yield {"emulator": emulator, "smtp": smtp, "webhook": webhook, "root": root}


def test_the_deployments_carry_serves_configuration_as_absolute_paths(served):
    from prefect.client.orchestration import get_client

    root: Path = served["root"]
    with get_client(sync_client=True) as client:
        daily = client.read_deployment_by_name("daily/daily").parameters
        targeted = client.read_deployment_by_name("targeted/targeted").parameters
        monthly = client.read_deployment_by_name("monthly-report/monthly").parameters
    expected = {
        "source": "airtable",
        "data": None,
        "out": str((root / "work" / "out").resolve()),
        "config": str((root / "conf" / "cae.toml").resolve()),
        "smtp_block": BLOCK,
    }
    assert daily == targeted == expected
    assert monthly == {k: v for k, v in expected.items() if k != "smtp_block"}


def test_served_runs_sign_with_the_configured_cooperative(served):
    from prefect.deployments import run_deployment

    emulator, smtp = served["emulator"], served["smtp"]
    pinged = mission_id(emulator, PINGED)
    emulator.change_record("Missions", pinged, {"Étape": "Mi-parcours"})
    assert emulator.ping(served["webhook"]) == 200
    by_hand = mission_id(emulator, BY_HAND)
    # As from the UI's "custom run": only the mission, everything else the deployment's.
    run_deployment(
        "targeted/targeted", parameters={"kind": "mission", "record": by_hand}, timeout=0
    )
    keys = {f"payout_mid:{pinged}", f"payout_mid:{by_hand}"}
    wait_for(lambda: keys <= {r.key for r in smtp.recorder.received})
    for key in keys:
        received = smtp.recorder.by_key(key)
        message = received.message
        assert received.sender == SENDER
        assert SENDER in str(message["From"])
        assert STAFF in str(message["Cc"])
        assert STAFF in received.recipients
        html = message.get_body(("html",)).get_content()
        assert NAME in html
        assert "Coopérative No-Code" not in html
