"""``cae serve``: the single-machine default. Serves the daily, monthly and targeted
deployments with Prefect's ``serve`` (no work pool needed) and the webhook receiver, against the
Prefect server of ``PREFECT_API_URL``. It also creates or updates the automations that notify
the staff (``cae/notifications.py``) when ``CAE_NOTIFY_WEBHOOK_URL`` or ``CAE_NOTIFY_BLOCK`` is
set.

Every run it serves uses the configuration ``cae serve`` itself was given, whether scheduled,
started by a webhook or by hand from the UI: the source, the data folder, the out folder,
``cae.toml`` and the SMTP block are the deployments' default parameters, as absolute paths
(``run_parameters``), so no run depends on its working folder.

How soon a run starts (``bench/latency.py`` measures it): the runner looks for new flow runs
every ``POLL_SECONDS`` (1 s; Prefect's default is 10 s), unless ``PREFECT_RUNNER_POLL_FREQUENCY``
is set in the environment or the active Prefect profile, and a targeted run a webhook starts is
run at once in this process (``cae/in_process.py``) rather than in a new one, unless
``--runs-in-subprocess``: it is scheduled beyond the runner's look-ahead (``PREFETCH_SECONDS``),
so the runner never races this process for it.

The receiver is configured from the environment (``cae/webhooks/settings.py`` lists the
variables; secrets never on the command line).
"""

from __future__ import annotations

import asyncio
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from prefect.exceptions import TerminationSignal
from prefect.runner import Runner
from prefect.schedules import Cron

from cae.in_process import PREFETCH_SECONDS, InProcessRuns
from cae.notifications import setup_if_configured
from cae.terminal import user_setting
from cae.webhooks.app import create_app
from cae.webhooks.launcher import prefect_launcher
from cae.webhooks.settings import receiver_config_from_environment
from flows.daily import daily
from flows.monthly import monthly_report
from flows.targeted import targeted
from settings.config import locate
from settings.defaults import EXAMPLE_DIR

#: Seconds between the runner's looks for new flow runs (one small query to the server each).
POLL_SECONDS = 1.0
POLL_SETTING = "PREFECT_RUNNER_POLL_FREQUENCY"


@dataclass(frozen=True)
class Served:
    """What ``cae serve`` was given, resolved once; every run it serves gets the same."""

    source: str
    data: str | None
    out: str
    config: str | None
    smtp_block: str | None

    @classmethod
    def resolve(
        cls,
        source: str,
        data: str | None,
        out: str,
        config_file: str | None,
        smtp_block: str | None = None,
        cwd: Path | None = None,
    ) -> Served:
        """Absolute paths, read in ``cwd`` (default: the current folder). ``config`` is the
        ``cae.toml`` the runs read: ``--config``, else the one of the data folder (of the
        current folder for Airtable and Notion, of the bundled example for ``local`` without
        ``--data``), else None (the defaults). ``smtp_block`` defaults to ``CAE_SMTP_BLOCK``."""
        here = cwd or Path.cwd()
        folder = here / data if data else (EXAMPLE_DIR if source == "local" else here)
        explicit = here / config_file if config_file else None
        found = locate(folder, explicit)
        return cls(
            source=source,
            data=str(folder.resolve()) if data else None,
            out=str((here / out).resolve()),
            config=str(found) if found is not None else None,
            smtp_block=smtp_block or os.environ.get("CAE_SMTP_BLOCK") or None,
        )

    def run_parameters(self, sends: bool = True) -> dict[str, Any]:
        """The deployments' default parameters; the monthly report (``sends=False``) sends
        no mail and takes no SMTP block."""
        parameters: dict[str, Any] = {
            "source": self.source,
            "data": self.data,
            "out": self.out,
            "config": self.config,
        }
        if sends:
            parameters["smtp_block"] = self.smtp_block
        return parameters


def deployments(served: Served) -> list[Any]:
    """The three deployments of prefect.yaml, for ``serve``."""
    parameters = served.run_parameters()
    tags = ["cae", f"source:{served.source}"]
    return [
        daily.to_deployment(
            "daily",
            schedules=[Cron("0 7 * * *", timezone="Europe/Paris")],
            parameters=parameters,
            tags=[*tags, "daily"],
            concurrency_limit=1,
        ),
        monthly_report.to_deployment(
            "monthly",
            schedules=[Cron("30 7 1 * *", timezone="Europe/Paris")],
            parameters=served.run_parameters(sends=False),
            tags=[*tags, "monthly"],
        ),
        targeted.to_deployment(
            "targeted", parameters=parameters, tags=[*tags, "targeted"], concurrency_limit=1
        ),
    ]


def poll_seconds() -> float | None:
    """``POLL_SECONDS``, or None (Prefect's setting) when the user set ``POLL_SETTING``."""
    return None if user_setting(POLL_SETTING, os.environ) else POLL_SECONDS


def serve(host: str, port: int, served: Served, in_process: bool = True) -> None:
    """Register and serve the deployments, and listen for webhooks on ``host:port``; the
    targeted runs a webhook starts run in this process when ``in_process``.

    What ``prefect.serve`` does, with the receiver started in between: the runner registers
    the deployments first (``Runner.add_deployment`` runs on Prefect's global event-loop thread
    and blocks it on Prefect's "run sync" loop, ``RunnerDeployment.aapply``), and only then
    does anything else in this process use Prefect. So a webhook never names a deployment that
    does not exist yet, and nothing waits on the global loop while it is blocked (a cycle
    between the two loops hung ``cae serve`` for good, see ``integrations/shared_rate.py``)."""
    print(setup_if_configured())
    runner = Runner(
        pause_on_shutdown=True, query_seconds=poll_seconds(), prefetch_seconds=PREFETCH_SECONDS
    )
    for deployment in deployments(served):
        runner.add_deployment(deployment)
    receiver = receiver_config_from_environment(served.data, served.config)
    runs = InProcessRuns({f"{targeted.name}/targeted": targeted}) if in_process else None
    launcher = prefect_launcher(runs.submit, runs.scheduled_time) if runs else prefect_launcher()
    app = create_app(receiver, launcher)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, name="webhooks", daemon=True).start()
    print(f"Récepteur de webhooks : http://{host}:{port}/webhooks/… ; déploiements servis.")
    try:
        asyncio.run(runner.start())
    except (KeyboardInterrupt, TerminationSignal):
        print("Arrêt de cae serve.")
    finally:
        if runs is not None:
            runs.close()
