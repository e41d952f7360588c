"""The fault-injection soak: many seeded scenarios of ``tests/reliability/faults.py``.

    python -m tests.reliability.soak --scenarios 1000 --seed 1 --report soak.json
    python -m tests.reliability.soak --only 1:437            # replay one scenario

Not run by CI. It starts its own Prefect server (``prefect_test_harness``), one SMTP server
and, per scenario, one Airtable emulator; it prints one line per failing scenario (its plan and
the command that replays it) and, at the end, the figures: scenarios run, faults injected by
kind, documents delivered, duplicates found, records lost, pending left for a person. Exit
status 1 when a scenario broke an invariant.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.soak")
    parser.add_argument("--scenarios", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=int, default=0, help="first scenario index")
    parser.add_argument("--only", help="SEED:INDEX, one scenario to replay")
    parser.add_argument(
        "--kill-every", type=int, default=20, help="every n-th scenario kills the process"
    )
    parser.add_argument("--report", type=Path, help="write the figures here as JSON")
    parser.add_argument("--workdir", type=Path, help="out folders (kept for failing scenarios)")
    parser.add_argument("--verbose", action="store_true", help="one line per scenario")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_LOCAL_STORAGE_PATH,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    from tests.reliability.faults import Harness, SmtpFaultServer, parse_only, plan_for, totals

    for name in ("prefect", "aiosmtpd", "mail.log", "weasyprint", "fontTools"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
    if args.only:
        seed, first = parse_only(args.only)
        indexes = [first]
    else:
        seed, indexes = args.seed, list(range(args.start, args.start + args.scenarios))
    command = "python -m tests.reliability.soak " + " ".join(sys.argv[1:] if argv is None else argv)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="cae-soak-"))
    workdir.mkdir(parents=True, exist_ok=True)
    outcomes = []
    started = time.monotonic()
    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(
            {
                PREFECT_LOCAL_STORAGE_PATH: workdir / "prefect-storage",
                PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            }
        ),
        SmtpFaultServer() as smtp,
    ):
        harness = Harness(workdir, smtp)
        harness.prepare()
        print(f"reference run checked; {len(indexes)} scenario(s), seed {seed}", flush=True)
        for count, index in enumerate(indexes, 1):
            outcome = harness.run(plan_for(seed, index, args.kill_every))
            outcomes.append(outcome)
            if outcome.problems:
                print(f"FAILED {outcome.report()}", flush=True)
            elif args.verbose:
                print(f"ok {outcome.report()} ({outcome.seconds:.1f} s)", flush=True)
            if count % 25 == 0 or count == len(indexes):
                figures = totals(outcomes)
                elapsed = time.monotonic() - started
                print(
                    f"{count}/{len(indexes)} scenarios, {elapsed:.0f} s: "
                    f"{figures['scenarios_failed']} failed, "
                    f"{figures['documents_delivered']} delivered, "
                    f"{figures['duplicates_found']} duplicates, "
                    f"{figures['records_lost']} lost, "
                    f"{figures['pending_left_for_a_person']} pending",
                    flush=True,
                )
                if args.report:
                    _write(args.report, command, figures, outcomes, elapsed)
    figures = totals(outcomes)
    elapsed = time.monotonic() - started
    if args.report:
        _write(args.report, command, figures, outcomes, elapsed)
    print(json.dumps({"command": command, **figures, "wall_seconds": round(elapsed)}, indent=2))
    return 1 if figures["scenarios_failed"] else 0


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
