"""``cae serve``: the single-machine default. Serves the daily, monthly and targeted
deployments with Prefect's ``serve`` (no work pool needed) and the webhook receiver, against the
Prefect server of ``PREFECT_API_URL``. It also creates or updates the automations that notify
the staff (``cae/notifications.py``) when ``CAE_NOTIFY_WEBHOOK_URL`` or ``CAE_NOTIFY_BLOCK`` is
set.

The receiver is configured from the environment (``cae/webhooks/settings.py`` lists the
variables; secrets never on the command line).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import uvicorn
from prefect import serve as prefect_serve
from prefect.schedules import Cron

from cae.notifications import setup_if_configured
from cae.webhooks.app import create_app
from cae.webhooks.launcher import prefect_launcher
from cae.webhooks.settings import receiver_config_from_environment
from flows.daily import daily
from flows.monthly import monthly_report
from flows.targeted import targeted


def deployments(source: str, data: str | None, out: str) -> list[Any]:
    """The three deployments of prefect.yaml, for ``serve``."""
    parameters = {"source": source, "data": data, "out": str(Path(out).resolve())}
    tags = ["cae", f"source:{source}"]
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
            parameters=parameters,
            tags=[*tags, "monthly"],
        ),
        targeted.to_deployment(
            "targeted", parameters=parameters, tags=[*tags, "targeted"], concurrency_limit=1
        ),
    ]


def serve(
    host: str, port: int, source: str, data: str | None, out: str, config_file: str | None
) -> None:
    """Register and serve the deployments, and listen for webhooks on ``host:port``."""
    served = deployments(source, data, out)
    print(setup_if_configured())
    for deployment in served:
        # Registered before the receiver listens, so a webhook never names a deployment that
        # does not exist yet; serve() registers them again, which changes nothing.
        deployment.apply()
    app = create_app(receiver_config_from_environment(data, config_file), prefect_launcher())
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, name="webhooks", daemon=True).start()
    print(f"Récepteur de webhooks : http://{host}:{port}/webhooks/… ; déploiements servis.")
    prefect_serve(*served)
