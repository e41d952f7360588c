"""The fault-injection soak: many seeded scenarios of ``tests/reliability/faults.py``.

    python -m tests.reliability.soak --scenarios 1000 --seed 1 --report soak.json
    python -m tests.reliability.soak --only 1:437            # replay one scenario (or 1:4,1:9)

Not run by CI. It starts its own Prefect server (``prefect_test_harness``) and ``--workers``
processes (2 by default: one per core), each with its own SMTP server and, per scenario, its
own Airtable emulator. It prints one line per failing scenario (its plan and the command that
replays it), progress every 25 scenarios and, at the end, the figures: scenarios run, faults
injected by kind, documents delivered, duplicates found, records lost, pending left for a
person beside its bound, kills plus mails of unknown outcome (a killed run leaves a person only
the letter it was sending). ``--report`` writes them as JSON. Exit status 1 when a scenario
broke an invariant.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.soak")
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="first scenario index")
    parser.add_argument("--only", help="SEED:INDEX[,SEED:INDEX…]: scenarios to replay")
    parser.add_argument(
        "--kill-every", type=int, default=20, help="every n-th scenario kills the process"
    )
    parser.add_argument("--workers", type=int, default=2, help="processes running scenarios")
    parser.add_argument("--report", type=Path, help="write the figures here as JSON")
    parser.add_argument("--workdir", type=Path, help="out folders (kept for failing scenarios)")
    parser.add_argument("--verbose", action="store_true", help="one line per scenario")
    # Internal: a worker started by the soak, on the soak's Prefect server.
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--outcomes", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def _quiet() -> None:
    for name in ("prefect", "aiosmtpd", "mail.log", "weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _indexes(args: argparse.Namespace) -> tuple[int, list[int]]:
    from tests.reliability.faults import parse_only

    if args.only:
        return parse_only(args.only)
    return args.seed, list(range(args.start, args.start + args.scenarios))


def _run_scenarios(args: argparse.Namespace, seed: int, indexes: list[int], sink) -> None:  # type: ignore[no-untyped-def]
    """Run the scenarios here, on the Prefect server this process is configured for."""
    from tests.reliability.faults import Harness, Outcome, SmtpFaultServer, plan_for

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cae-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    with SmtpFaultServer() as smtp:
        harness = Harness(workdir, smtp)
        harness.prepare()
        for index in indexes:
            plan = plan_for(seed, index, args.kill_every)
            try:
                outcome = harness.run(plan)
            except Exception as exc:  # the harness itself failed: count it, go on
                outcome = Outcome(plan, problems=[f"the harness failed: {exc!r}"[:500]])
            if outcome.problems:
                print(f"FAILED {outcome.report()}", flush=True)
            elif args.verbose:
                print(f"ok {outcome.report()} ({outcome.seconds:.1f} s)", flush=True)
            sink(outcome)


def _worker(args: argparse.Namespace) -> int:
    seed, indexes = _indexes(args)
    assert args.outcomes is not None
    with args.outcomes.open("a", encoding="utf-8") as sink:

        def write(outcome) -> None:  # type: ignore[no-untyped-def]
            sink.write(json.dumps(outcome.as_json(), ensure_ascii=False) + "\n")
            sink.flush()

        _run_scenarios(args, seed, indexes[args.worker :: args.workers], write)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    _quiet()
    if args.worker is not None:
        return _worker(args)
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_LOCAL_STORAGE_PATH,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    from tests.reliability.faults import Outcome, totals

    seed, indexes = _indexes(args)
    command = "python -m tests.reliability.soak " + " ".join(sys.argv[1:] if argv is None else argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cae-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    workers = max(1, min(args.workers, len(indexes)))
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(
            {
                PREFECT_LOCAL_STORAGE_PATH: workdir / "prefect-storage",
                PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            }
        ),
    ):
        print(f"{len(indexes)} scenario(s), seed {seed}, {workers} worker(s)", flush=True)
        if workers == 1:
            _run_scenarios(args, seed, indexes, outcomes.append)
        else:
            api = str(PREFECT_API_URL.value())
            outcomes = _supervise(args, workdir, workers, api, started, command)
    figures = totals(outcomes)
    elapsed = time.monotonic() - started
    if args.report:
        _write(args.report, command, figures, outcomes, elapsed)
    print(json.dumps({"command": command, **figures, "wall_seconds": round(elapsed)}, indent=2))
    print(
        f"pending left for a person: {figures['pending_left_for_a_person']}; "
        f"kills + unknown-outcome mails: {figures['kills_plus_unknown_outcomes']} "
        f"({figures['processes_killed']} kills, {figures['mail_outcomes_unknown']} unknown; "
        f"{figures['letters_in_flight_at_a_kill']} kills struck during an SMTP transaction)",
        flush=True,
    )
    return 1 if figures["scenarios_failed"] or len(outcomes) < len(indexes) else 0


def _supervise(  # type: ignore[no-untyped-def]
    args: argparse.Namespace, workdir: Path, workers: int, api: str, started: float, command: str
):
    """Start the workers on this Prefect server; gather their outcomes as they come."""
    from tests.reliability.faults import Outcome, totals

    env = {**os.environ, "PREFECT_API_URL": api}
    files = [workdir / f"worker-{k}.jsonl" for k in range(workers)]
    processes = []
    for k, path in enumerate(files):
        path.unlink(missing_ok=True)
        passed = [
            "--seed", str(args.seed), "--start", str(args.start),
            "--scenarios", str(args.scenarios), "--kill-every", str(args.kill_every),
        ]  # fmt: skip
        if args.only:
            passed += ["--only", args.only]
        if args.verbose:
            passed.append("--verbose")
        worker_args = [
            "--worker", str(k), "--workers", str(workers),
            "--workdir", str(workdir / f"worker-{k}"), "--outcomes", str(path),
        ]  # fmt: skip
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.soak", *passed, *worker_args], env=env
            )
        )
    reported = 0
    outcomes: list[Outcome] = []
    while True:
        running = [p for p in processes if p.poll() is None]
        outcomes = [
            Outcome.from_json(json.loads(line))
            for path in files
            if path.exists()
            for line in path.read_text("utf-8").splitlines()
            if line.strip()
        ]
        if len(outcomes) // 25 > reported // 25 or not running:
            reported = len(outcomes)
            figures = totals(outcomes)
            elapsed = time.monotonic() - started
            print(
                f"{len(outcomes)} scenarios, {elapsed:.0f} s: "
                f"{figures['scenarios_failed']} failed, "
                f"{figures['documents_delivered']} delivered, "
                f"{figures['duplicates_found']} duplicates, "
                f"{figures['records_lost']} lost, "
                f"{figures['pending_left_for_a_person']} pending",
                flush=True,
            )
            if args.report:
                _write(args.report, command, figures, outcomes, elapsed)
        if not running:
            break
        time.sleep(5)
    for process in processes:
        if process.returncode != 0:
            print(f"a worker exited with status {process.returncode}", flush=True)
    return outcomes


def _write(path: Path, command: str, figures: dict, outcomes: list, elapsed: float) -> None:
    failed = [
        {"scenario": o.plan.ident, "replay": o.plan.replay(), "problems": o.problems}
        for o in outcomes
        if o.problems
    ]
    path.write_text(
        json.dumps(
            {"command": command, **figures, "wall_seconds": round(elapsed), "failed": failed},
            ensure_ascii=False,
            indent=2,
        )
        + "\n",
        "utf-8",
    )


if __name__ == "__main__":
    sys.exit(main())
