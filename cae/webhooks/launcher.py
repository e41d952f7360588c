"""How the receiver starts the targeted flow (``flows/targeted.py``) for one mission or member.

A launcher is ``launch(deployment_name, parameters, idempotency_key)``; in production it creates
a flow run of the deployment as ``run_deployment(…, timeout=0, idempotency_key=…)`` does, and
Prefect starts one flow run per key.
Also here: what a run targets (a mission or a member) and what its ids may look like.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cae.webhooks.http import answer

logger = logging.getLogger(__name__)

#: ``launch(deployment_name, parameters, idempotency_key)``: start one flow run per key.
Launcher = Callable[[str, dict[str, Any], str], None]

MISSION = "mission"
MEMBER = "member"
RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
EVENT_ID = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces


def prefect_launcher(
    created: Callable[[str, Any], None] | None = None,
    scheduled_time: Callable[[], datetime] | None = None,
) -> Launcher:
    """The production launcher: a flow run of the deployment, not waited for. ``created``,
    if given, is handed the deployment's name and the flow run, and the run is scheduled at
    ``scheduled_time()``, out of the runner's sight, for ``created`` to claim
    (``cae/in_process.py``); else the run is due at once."""

    def launch(name: str, parameters: dict[str, Any], idempotency_key: str) -> None:
        # Imported here: importing Prefect takes seconds, and only ``cae serve`` launches.
        from prefect.states import Scheduled

        from integrations.prefect_client import quick_client

        # What run_deployment(name, parameters, timeout=0, idempotency_key=…) does outside a
        # flow, over a client that asks again soon when the server's database is busy.
        when = scheduled_time() if created is not None and scheduled_time is not None else None
        with quick_client() as client:
            deployment = client.read_deployment_by_name(name)
            flow_run = client.create_flow_run_from_deployment(
                deployment.id,
                parameters=parameters,
                state=Scheduled(scheduled_time=when),
                idempotency_key=idempotency_key,
            )
        if created is not None:
            created(name, flow_run)

    return launch


class TargetedRuns:
    """Starts one run of the targeted deployment per key, answering the sender at once."""

    def __init__(self, launch: Launcher, deployment: str) -> None:
        self.launch = launch
        self.deployment = deployment

    async def start(self, kind: str, record: str, source: str, key: str) -> JSONResponse:
        """200 once launched; 202 when the launch failed (logged, without the error's text)."""
        parameters = {"kind": kind, "record": record, "source": source}
        try:
            await run_in_threadpool(self.launch, self.deployment, parameters, key)
        except Exception as error:
            logger.error(
                "Lancement de %s impossible (%s) pour %s.",
                self.deployment,
                type(error).__name__,
                key,
            )
            return answer(202, statut="reçu, lancement différé")
        logger.info("Lancé : %s (%s %s).", key, kind, record)
        return answer(200, statut="lancé")
