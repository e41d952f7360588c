"""One Airtable budget for every process: ``cae serve`` (its receiver reading webhook payloads
and the targeted runs a webhook starts, in its own process; the daily run, in another) on a
base held to Airtable's real limit of 5 requests in any second. A daily run and three
webhook-triggered targeted runs, with the receiver's payload reads in between, all at once:
not one 429.

Every request takes a slot of ``cae-rate-airtable-<base>`` on the Prefect server first
(``integrations/shared_rate.py``); without it, each process paced itself at 5 a second and
together they went over (issue 17).
"""

from __future__ import annotations

import os
import threading
import time

import pytest

from emulators.airtable import AirtableEmulator
from tests.support.airtable_example import TOKEN, build_example_base, environment
from tests.support.loopback import free_port
from tests.support.serving import register_webhook, serving, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

BASE = "appSHAREDBUDGET"  # its own base, so its own budget on the session's server


def ping_until(emulator: AirtableEmulator, webhook: str, stop: threading.Event) -> None:
    while not stop.is_set():
        emulator.ping(webhook, base=BASE)
        stop.wait(0.2)


def flow_runs(since) -> list:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterStartTime

    with get_client(sync_client=True) as client:
        return client.read_flow_runs(
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=since))
        )


def test_the_receiver_and_four_served_runs_share_one_budget(tmp_path):
    from datetime import UTC, datetime

    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    port = free_port()
    # Airtable's real limit: 5 requests in any second; a short penalty keeps a failure quick.
    with AirtableEmulator(TOKEN, BASE, rate_limit=5, penalty_seconds=2.0) as emulator:
        build_example_base(emulator, BASE)
        webhook = register_webhook(emulator, BASE, port, tmp_path / "webhook.json")
        env = {
            **os.environ,
            **environment(emulator, BASE),
            "CAE_AIRTABLE_PENALTY_SECONDS": "2",
            "CAE_SHARED_RATE": "on",
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_RUNNER_POLL_FREQUENCY": "1",
            "CAE_AIRTABLE_WEBHOOK": str(tmp_path / "webhook.json"),
            "CAE_STATE_DIR": str(tmp_path / "state"),
        }
        arguments = [
            "--source",
            "airtable",
            "--out",
            str(tmp_path / "out"),
            "--data",
            str(tmp_path),
        ]
        with serving(arguments, env, port, tmp_path / "serve.log"):
            emulator.reset_counts()
            since = datetime.now(UTC)
            run_deployment("daily/daily", timeout=0)
            # Three missions not yet at mid-development, moved there, one ping each.
            ids = {
                r["fields"]["Mission"]: r["id"]
                for r in emulator.records("Missions", base=BASE)
                if r["fields"].get("Étape") == "En développement"
            }
            ids = dict(sorted(ids.items())[:3])
            assert len(ids) == 3

            def finished() -> list | None:
                mine = [
                    r
                    for r in flow_runs(since)
                    if r.parameters.get("record") in ids.values() or r.name.startswith("daily-")
                ]
                done = [r for r in mine if r.state is not None and r.state.is_final()]
                return mine if len(mine) >= 4 and len(done) == len(mine) else None

            # Pings all along, as a busy base sends them: the receiver reads payloads at its
            # own pace while the runs read and write.
            stop = threading.Event()
            pinger = threading.Thread(target=ping_until, args=(emulator, webhook, stop))
            pinger.start()
            try:
                for record in ids.values():
                    emulator.change_record("Missions", record, {"Étape": "Mi-parcours"}, base=BASE)
                    time.sleep(2.0)

                runs = wait_for(finished, timeout=300)
            finally:
                stop.set()
                pinger.join()
            requests_made = len(emulator.requests)
            rate_limited = emulator.count_429()

    print(f"\nshared budget: {requests_made} Airtable requests, {rate_limited} × 429")
    with get_client(sync_client=True) as prefect:
        limit = prefect.read_global_concurrency_limit_by_name(f"cae-rate-airtable-{BASE}")
    assert {r.state_name for r in runs} == {"Completed"}, [(r.name, r.state_name) for r in runs]
    assert len([r for r in runs if r.name.startswith("daily-")]) == 1
    assert len([r for r in runs if r.parameters.get("record") in ids.values()]) == 3
    assert (limit.limit, limit.slot_decay_per_second) == (1, 4.0)
    assert rate_limited == 0


def test_a_slot_is_taken_while_prefects_event_loops_are_busy(monkeypatch):
    """``cae serve`` hung for good when the receiver's first slot waited on Prefect's loops
    while the runner, registering the deployments, blocked one of them on the other
    (``integrations/shared_rate.py``, ``Slots``). A slot must need neither loop: both are held
    busy here while another thread takes one."""
    from prefect._internal.concurrency.api import create_call, from_sync
    from prefect.utilities.asyncutils import run_coro_as_sync

    from integrations.pacing import SlidingWindow
    from integrations.shared_rate import SharedBudget, limit_name

    monkeypatch.setenv("CAE_SHARED_RATE", "on")
    budget = SharedBudget(limit_name("airtable", "appLOOPSBUSY"), SlidingWindow(5))
    release = threading.Event()

    async def busy() -> None:
        release.wait(60)  # holds the loop's thread, as a blocking call on it does

    holders = [
        threading.Thread(target=run_coro_as_sync, args=(busy(),), daemon=True),
        threading.Thread(
            target=lambda: from_sync.call_soon_in_loop_thread(create_call(busy)).result(),
            daemon=True,
        ),
    ]
    for holder in holders:
        holder.start()
    time.sleep(0.5)
    taker = threading.Thread(target=lambda: (budget.acquire(), budget.release()), daemon=True)
    try:
        taker.start()
        taker.join(timeout=20)
        assert not taker.is_alive(), "a slot waited on Prefect's event loops"
    finally:
        release.set()
        for holder in holders:
            holder.join(timeout=10)
