"""The targeted runs a webhook starts, run at once in ``cae serve``'s own process.

Prefect's runner would start them: it finds a new flow run at its next poll, then starts a
Python process that imports Prefect and the project (about 5 s on a busy 2-core machine) before
the flow begins. ``cae serve`` has all of that imported already, so after the launcher created
the flow run (``cae/webhooks/launcher.py``), ``InProcessRuns`` claims it the way the runner
does, by proposing the Pending state, and runs the flow in a worker thread of its own (both over
``integrations/prefect_client.py``'s client, which asks again soon after a busy server's 503).
The server grants Pending once: if the deployment's concurrency limit makes the run wait, or the
run already ended (a key delivered twice), the proposal is refused and the runner keeps the
run. Everything else about the run is Prefect's: its state, logs, tasks and deployment
parameters.

The runner never races this process for the run. It only takes Scheduled runs due within its
look-ahead (``PREFETCH_SECONDS``, ``Runner(prefetch_seconds=…)``; Prefect's
``get_scheduled_flow_runs`` asks for runs scheduled before now plus that), and the launcher
schedules a webhook's run ``HOLD_SECONDS`` ahead. The claim sets the Pending state's own
scheduled time to now, so the run starts at once (Prefect's ``WaitForScheduledTime`` reads the
Pending state's time, ``CopyScheduledTime`` copies the Scheduled one only when none is given).
Before, the run was due at once, and when the runner's poll came before the claim (a run
queued behind the one under way, a busy machine), the runner started it in a new process.
A run this process never claims (``cae serve`` stopped first) is taken by the runner when it
falls due, at most ``HOLD_SECONDS`` later; the next daily run issues whatever it missed anyway.

What the runner gives a run and this does not: a process of its own, so a run cancelled from
the UI is not stopped (a targeted run takes seconds), and a run that crashes the interpreter
would take ``cae serve`` with it. When ``cae serve`` stops (SIGTERM, Ctrl-C), the run under
way finishes first; runs not yet begun stay Scheduled, and ``cae serve``'s runner takes them
when they fall due (``HOLD_SECONDS``). ``cae serve --runs-in-subprocess`` leaves every run to
the runner, due at once.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from prefect.client.schemas.objects import StateDetails
from prefect.exceptions import Abort
from prefect.flow_engine import run_flow
from prefect.states import Pending
from prefect.utilities.engine import propose_state_sync

from integrations.prefect_client import quick_client

logger = logging.getLogger(__name__)

#: The runner's look-ahead: it takes the Scheduled runs due within this many seconds.
PREFETCH_SECONDS = 10
#: How far ahead a webhook's run is scheduled, out of the runner's sight until this process
#: claims it: far beyond the wait behind the runs queued before it (seconds each).
HOLD_SECONDS = 3600
#: The message of the Pending state this process claims a run with (the tests look for it).
CLAIMED = "Exécuté par cae serve"


class InProcessRuns:
    """Runs the flow runs of known deployments (``flows``: deployment name → flow) in this
    process, one at a time, if the server lets this process claim them."""

    def __init__(self, flows: dict[str, Any]) -> None:
        self.flows = flows
        self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cae-run")

    @staticmethod
    def scheduled_time() -> datetime:
        """When a run to be claimed here is scheduled: out of the runner's look-ahead."""
        return datetime.now(UTC) + timedelta(seconds=HOLD_SECONDS)

    def submit(self, deployment: str, flow_run: Any) -> None:
        """Run ``flow_run`` soon, in the background, if ``deployment``'s flow is known."""
        flow = self.flows.get(deployment)
        if flow is not None:
            self.pool.submit(self.run, flow, flow_run)

    def close(self) -> None:
        """Wait for the run under way, if any (a targeted run takes seconds), and start no
        other: a run finished by Python's own exit would log errors and drop its last logs."""
        self.pool.shutdown(wait=True, cancel_futures=True)

    def run(self, flow: Any, flow_run: Any) -> None:
        try:
            if self.claim(flow_run):
                run_flow(flow, flow_run=flow_run, return_type="state")
        except Exception:
            logger.exception("Exécution %s dans le processus de cae serve : erreur.", flow_run.id)

    @staticmethod
    def claim(flow_run: Any) -> bool:
        """Pending, as the runner proposes it, due now; False when the server refuses it."""
        due = StateDetails(scheduled_time=datetime.now(UTC))
        with quick_client() as client:
            try:
                claim = Pending(message=CLAIMED, state_details=due)
                state = propose_state_sync(client, claim, flow_run_id=flow_run.id)
            except Abort:
                return False
        return state.is_pending()
