"""``cae serve``: the single-machine default. Serves the daily, monthly and targeted
deployments with Prefect's ``serve`` (no work pool needed) and the webhook receiver, against the
Prefect server of ``PREFECT_API_URL``.

The receiver is configured from the environment (secrets never on the command line):

- ``CAE_WEBHOOK_SECRET``: the shared secret of ``/webhooks/generic``;
- ``CAE_AIRTABLE_WEBHOOK``: where ``cae airtable webhook create`` saved the webhook's id and MAC
  secret (a Prefect Secret block name, or a file path), with the ``AIRTABLE_*`` variables;
- ``CAE_NOTION_MISSIONS_DATA_SOURCE`` and ``CAE_NOTION_MEMBERS_DATA_SOURCE`` for
  ``/webhooks/notion``; its verification token is kept in ``CAE_STATE_DIR/notion-token``.

``CAE_STATE_DIR`` (default ``./.cae-state``) holds the Airtable payload cursor and the Notion
token, each readable by its owner only.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import uvicorn
from prefect import serve as prefect_serve
from prefect.schedules import Cron

from cae.airtable_webhooks import load_webhook_secret
from cae.webhooks import (
    AirtableWebhookConfig,
    FileCursorStore,
    FileTokenStore,
    NotionWebhookConfig,
    ReceiverConfig,
    create_app,
    prefect_launcher,
)
from flows.daily import daily
from flows.monthly import monthly_report
from flows.targeted import targeted
from services.run_setup import airtable_settings
from settings.config import Config


def receiver_config(source: str, data: str | None, config_file: str | None) -> Any:
    """The receiver's settings, from the environment and the run's ``cae.toml``."""
    state = Path(os.environ.get("CAE_STATE_DIR", ".cae-state"))
    airtable = None
    if os.environ.get("CAE_AIRTABLE_WEBHOOK"):
        folder = Path(data) if data else Path.cwd()
        config = Config.find(folder, Path(config_file) if config_file else None)
        secret = load_webhook_secret(os.environ["CAE_AIRTABLE_WEBHOOK"])
        airtable = AirtableWebhookConfig(
            secret.webhook_id,
            secret.mac_secret_base64,
            airtable_settings(config),
            missions_table=config.schema.label("missions"),
            members_table=config.schema.label("members"),
        )
    notion = None
    missions_ds = os.environ.get("CAE_NOTION_MISSIONS_DATA_SOURCE")
    members_ds = os.environ.get("CAE_NOTION_MEMBERS_DATA_SOURCE")
    if missions_ds and members_ds:
        notion = NotionWebhookConfig(
            FileTokenStore(state / "notion-token"), missions_ds, members_ds
        )
    return ReceiverConfig(
        airtable=airtable,
        notion=notion,
        generic_secret=os.environ.get("CAE_WEBHOOK_SECRET") or None,
        cursor_store=FileCursorStore(state / "airtable-cursors.json") if airtable else None,
    )


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
    for deployment in served:
        # Registered before the receiver listens, so a webhook never names a deployment that
        # does not exist yet; serve() registers them again, which changes nothing.
        deployment.apply()
    app = create_app(receiver_config(source, data, config_file), prefect_launcher())
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning"))
    threading.Thread(target=server.run, name="webhooks", daemon=True).start()
    print(f"Récepteur de webhooks : http://{host}:{port}/webhooks/… ; déploiements servis.")
    prefect_serve(*served)
