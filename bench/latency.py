"""Edit → letter: how long after a mission reaches mid-development in Airtable its payout notice
is accepted by the SMTP server, with ``cae serve`` as a cooperative runs it.

``python -m bench.latency`` starts a Prefect server (``bench/prefect_server.py``), the Airtable
emulator with the example cooperative at Airtable's real rate limit, a loopback SMTP server
(reached through a prefect-email block, as ``--smtp-block`` in production), registers the
receiver's webhook and runs ``cae serve --source airtable --config … --smtp-block …`` in its own
process. It then moves missions from "En développement" to "Mi-parcours" one after the other, as
a staff member would in the base (the emulator's ``change_record``), sends Airtable's signed
ping at once, and waits for each notice. For every edit it prints when, after the edit:

- **ping answered**: the receiver answered Airtable's ping (``emulator.ping`` returned);
- **payloads read**: the receiver's ``GET …/webhooks/{id}/payloads`` reached the emulator;
- **run created**: the flow run's creation time on the Prefect server (``run_deployment``
  returns right after it);
- **run picked up**: its Pending state (the runner's poll found it);
- **run started**: its Running state (the flow's process is up and the engine began);
- **first read**: the run's first request to the emulator;
- **letter accepted**: the SMTP server accepted the notice (its ``DATA`` answered).

Real Airtable adds its own delay between an edit and its ping (not measured here: the ping is
sent right after the edit). The receiver's first reading (table ids) is done by a warm-up ping
before the first edit, as a long-running receiver would have done long before.

``--poll SECONDS`` sets ``PREFECT_RUNNER_POLL_FREQUENCY`` for ``cae serve`` (by default it is
left unset, so ``cae serve``'s own default applies); ``--edits N`` how many missions to move.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.prefect_server import PrefectServer
from emulators.airtable import AirtableEmulator
from tests.support.airtable_example import BASE, TOKEN, build_example_base, environment
from tests.support.loopback import free_port
from tests.support.serving import (
    environment_without,
    register_webhook,
    save_smtp_block,
    serving,
    wait_for,
)
from tests.support.smtp_server import Recorder, SmtpServer

MISSIONS = [
    "Application de réservation Théâtre des Lilas",
    "Site vitrine Boulangerie Dupain",
    "Outil de facturation Artisans du 11e",
    "Application mobile Marché d'Aligre",
]
CONFIG = f"""\
[cooperative]
name = "Coopérative Les Essaims du Rhône"
city = "Lyon"
signatory_name = "Jeanne Roux"
signatory_role = "Co-gérante"
email = "envois@essaims.example"
staff_email = "appui@essaims.example"

[airtable]
base_id = "{BASE}"
"""
BLOCK = "cae-bench-latency-smtp"
STEPS = [
    "ping answered",
    "payloads read",
    "run created",
    "run picked up",
    "run started",
    "first read",
    "letter accepted",
]


@dataclass
class StampedRecorder(Recorder):
    """The test suite's SMTP recorder, noting when each message was accepted."""

    accepted: dict[str, float] = field(default_factory=dict)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        answer = await super().handle_DATA(server, session, envelope)
        if self.received:
            self.accepted.setdefault(self.received[-1].key, time.time())
        return str(answer)


def flow_run_times(record: str) -> dict[str, float]:
    """The targeted run of ``record``: created, and when it entered Pending and Running."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["targeted"])))
        (run,) = [r for r in runs if r.parameters.get("record") == record]
        states = client.read_flow_run_states(run.id)
    times = {"run created": run.created.timestamp()}  # type: ignore[union-attr]
    for state in states:
        name = {"Pending": "run picked up", "Running": "run started"}.get(state.type.value.title())
        if name:
            times.setdefault(name, state.timestamp.timestamp())
    return times


def measure(
    emulator: AirtableEmulator, smtp: SmtpServer, webhook: str, title: str, timeout: float = 120
) -> dict[str, float]:
    """Move ``title`` to mid-development, ping, wait for its notice: seconds after the edit."""
    recorder = smtp.recorder
    assert isinstance(recorder, StampedRecorder)
    record = next(r["id"] for r in emulator.records("Missions") if r["fields"]["Mission"] == title)
    key = f"payout_mid:{record}"
    edited = time.time()
    emulator.change_record("Missions", record, {"Étape": "Mi-parcours"})
    status = emulator.ping(webhook)
    answered = time.time()
    assert status == 200, status
    wait_for(lambda: key in recorder.accepted, timeout=timeout, every=0.02)
    requests = [r for r in emulator.requests if r.timestamp > edited]
    payloads = [r.timestamp for r in requests if r.operation == "webhook_payloads"]
    reads = [r.timestamp for r in requests if r.timestamp > max(payloads, default=edited)]
    times = {
        "ping answered": answered,
        "payloads read": min(payloads, default=float("nan")),
        **wait_for(lambda: flow_run_times(record), timeout=30),
        "first read": min((t for t in reads if t > answered), default=float("nan")),
        "letter accepted": recorder.accepted[key],
    }
    seconds = {step: times[step] - edited for step in STEPS}
    started, accepted = times["run started"], times["letter accepted"]
    seconds["requests"] = sum(1 for r in requests if started <= r.timestamp <= accepted)
    return seconds


def report(rows: list[tuple[str, dict[str, float]]]) -> str:
    columns = [*STEPS, "requests"]
    header = "| mission | " + " | ".join(columns) + " |"
    lines = [header, "|" + "---|" * (len(columns) + 1)]
    for title, times in rows:
        lines.append(f"| {title} | " + " | ".join(f"{times[s]:.2f}" for s in columns) + " |")
    medians = {s: statistics.median(t[s] for _, t in rows) for s in columns}
    lines.append("| **median** | " + " | ".join(f"{medians[s]:.2f}" for s in columns) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--edits", type=int, default=len(MISSIONS), choices=range(1, 5))
    parser.add_argument("--poll", help="PREFECT_RUNNER_POLL_FREQUENCY for cae serve")
    parser.add_argument(
        "--shared-rate-off", action="store_true", help="CAE_SHARED_RATE=off for cae serve"
    )
    parser.add_argument("--subprocess", action="store_true", help="cae serve --runs-in-subprocess")
    parser.add_argument("--keep", help="a folder to keep the logs in (default: a temporary one)")
    args = parser.parse_args(argv)
    root = Path(args.keep or tempfile.mkdtemp(prefix="cae-latency-"))
    root.mkdir(parents=True, exist_ok=True)
    with PrefectServer(root / "prefect") as server:
        os.environ.update(server.client_environment())
        # This process's own Airtable clients (building the base at 1,000 requests a second,
        # registering the webhook) stay out of the shared budget: their refusals would pile up
        # on the limit cae serve's runs then use. cae serve gets it (CAE_ variables dropped).
        os.environ["CAE_SHARED_RATE"] = "off"
        run(root, server, args)


def serve_setup(
    root: Path, server: PrefectServer, emulator: AirtableEmulator, smtp: SmtpServer, args: Any
) -> tuple[str, list[str], dict[str, str], int]:
    """The example base, the receiver's webhook, and ``cae serve``'s arguments, environment and
    port (``args``: ``poll``, ``shared_rate_off``, ``subprocess``)."""
    work, conf = root / "work", root / "conf"
    work.mkdir(exist_ok=True)
    conf.mkdir(exist_ok=True)
    (conf / "cae.toml").write_text(CONFIG, encoding="utf-8")
    port = free_port()
    save_smtp_block(BLOCK, smtp.port)
    build_example_base(emulator)
    webhook = register_webhook(emulator, BASE, port, root / "webhook.json")
    env = environment_without("CAE_", "AIRTABLE_", "PREFECT_RUNNER_POLL")
    env.update(
        {
            **environment(emulator),
            **server.client_environment(),
            "CAE_AIRTABLE_WEBHOOK": str(root / "webhook.json"),
            "CAE_STATE_DIR": str(root / "state"),
        }
    )
    del env["CAE_AIRTABLE_PENALTY_SECONDS"]  # Airtable's real 30 s
    if args.poll:
        env["PREFECT_RUNNER_POLL_FREQUENCY"] = args.poll
    if args.shared_rate_off:
        env["CAE_SHARED_RATE"] = "off"
    arguments = [
        "--source", "airtable", "--out", "out", "--config", "../conf/cae.toml",
        "--smtp-block", BLOCK, *(["--runs-in-subprocess"] if args.subprocess else []),
    ]  # fmt: skip
    return webhook, arguments, env, port


def stamped_smtp() -> SmtpServer:
    """A loopback SMTP server noting when it accepted each message."""
    smtp = SmtpServer()
    smtp.recorder = StampedRecorder()
    smtp._controller.handler = smtp.recorder
    return smtp


def warm_up(emulator: AirtableEmulator, webhook: str, timeout: float = 240) -> None:
    """A first ping: the receiver reads the table ids, as a long-running one did long ago."""
    assert emulator.ping(webhook) == 200
    read = lambda: any(r.operation == "webhook_payloads" for r in emulator.requests)  # noqa: E731
    wait_for(read, timeout=timeout)


def run(root: Path, server: PrefectServer, args: argparse.Namespace) -> None:
    smtp = stamped_smtp()
    with AirtableEmulator(TOKEN, BASE) as emulator, smtp:
        webhook, arguments, env, port = serve_setup(root, server, emulator, smtp, args)
        began = time.perf_counter()
        with serving(arguments, env, port, root / "serve.log", cwd=root / "work"):
            print(f"cae serve answering after {time.perf_counter() - began:.1f} s")
            warm_up(emulator, webhook)
            time.sleep(2)
            rows = []
            for title in MISSIONS[: args.edits]:
                times = measure(emulator, smtp, webhook, title)
                print(title, {s: round(t, 2) for s, t in times.items()}, flush=True)
                rows.append((title, times))
                time.sleep(1)
    print(f"\nSeconds after the edit ({' '.join(sys.argv[1:]) or 'defaults'}); logs in {root}\n")
    print(report(rows))
    print(f"\n429 answers: {emulator.count_429()}")


if __name__ == "__main__":
    main()
