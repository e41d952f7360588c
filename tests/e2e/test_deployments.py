"""``prefect deploy --all`` accepts prefect.yaml and registers its schedules in Paris time."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prefect.exceptions import ObjectAlreadyExists

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

ROOT = Path(__file__).resolve().parents[2]


def test_prefect_deploy_registers_the_three_deployments_with_paris_schedules(tmp_path):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.settings import PREFECT_API_URL

    with get_client(sync_client=True) as client, contextlib.suppress(ObjectAlreadyExists):
        client.create_work_pool(WorkPoolCreate(name="cae-process", type="process"))
    env = {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "CAE_HOME": str(ROOT),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
    }
    prefect = Path(sys.executable).with_name("prefect")
    for _ in range(2):  # redeploying must not duplicate anything
        result = subprocess.run(
            [str(prefect), "--no-prompt", "deploy", "--all"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout + result.stderr

    with get_client(sync_client=True) as client:
        deployments = {d.name: d for d in client.read_deployments()}
        schedules = {
            name: client.read_deployment_schedules(deployments[name].id)
            for name in ("daily", "monthly", "targeted")
        }
        # The session's server is shared: leave the names free for `cae serve`'s test.
        for name in ("daily", "monthly", "targeted"):
            client.delete_deployment(deployments[name].id)
    assert {"daily", "monthly", "targeted"} <= set(deployments)
    (daily,) = schedules["daily"]
    assert (daily.schedule.cron, daily.schedule.timezone) == ("0 7 * * *", "Europe/Paris")
    (monthly,) = schedules["monthly"]
    assert (monthly.schedule.cron, monthly.schedule.timezone) == ("30 7 1 * *", "Europe/Paris")
    assert schedules["targeted"] == []
    assert deployments["daily"].work_pool_name == "cae-process"
    assert "source:local" in deployments["daily"].tags
    assert deployments["daily"].parameters["source"] == "local"
    # Every run reads the cae.toml and SMTP block its deployment names (null: see prefect.yaml).
    for name in ("daily", "targeted"):
        assert {"config", "smtp_block"} <= set(deployments[name].parameters)
    assert "config" in deployments["monthly"].parameters
