"""Does ``cae serve`` start and deliver every time? ``python -m bench.serve_starts``.

One Prefect server; then, ``--starts`` times (8 by default), a fresh Airtable emulator with the
example cooperative at Airtable's real limit, a loopback SMTP server and ``cae serve --source
airtable …`` (``bench/latency.py``'s set-up, the shared Airtable budget on unless
``--shared-rate-off``): it must answer, read the warm-up ping's payloads, and deliver the payout
notice of one edited mission, each within ``--timeout`` seconds. A start that does not is a
hang: ``py-spy dump`` of ``cae serve``'s process (if py-spy is installed next to Python) goes
to the log folder before the process is stopped. Prints each start's edit → letter seconds and
the count of starts that delivered.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.latency import MISSIONS, measure, serve_setup, stamped_smtp, warm_up
from bench.prefect_server import PrefectServer
from emulators.airtable import AirtableEmulator
from tests.support.airtable_example import BASE, TOKEN
from tests.support.serving import serving, wait_for


def dump_stacks(pid: int, path: Path) -> None:
    """``py-spy dump`` of ``pid`` (every thread's Python stack) into ``path``."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if spy is None:
        path.write_text("py-spy is not installed next to this Python.\n")
        return
    done = subprocess.run([spy, "dump", "--pid", str(pid)], capture_output=True, text=True)
    path.write_text(done.stdout + done.stderr)


def ended(title: str, emulator: AirtableEmulator) -> bool:
    """The targeted run of mission ``title`` reached a final state."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName

    record = next(r["id"] for r in emulator.records("Missions") if r["fields"]["Mission"] == title)
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_filter=FlowFilter(name=FlowFilterName(any_=["targeted"])))
    mine = [r for r in runs if r.parameters.get("record") == record]
    return bool(mine) and all(r.state is not None and r.state.is_final() for r in mine)


def by_runner(log: Path) -> int:
    """How many runs the runner started in a process of their own (not in cae serve's)."""
    return log.read_text().count("Downloading flow code from storage")


def start_once(root: Path, server: PrefectServer, args: argparse.Namespace) -> float | None:
    """One start: the edit → letter seconds, or None when a step timed out."""
    root.mkdir(parents=True)
    smtp = stamped_smtp()
    with AirtableEmulator(TOKEN, BASE) as emulator, smtp:
        webhook, arguments, env, port = serve_setup(root, server, emulator, smtp, args)
        try:
            with serving(arguments, env, port, root / "serve.log", cwd=root / "work") as process:
                try:
                    warm_up(emulator, webhook, args.timeout)
                    time.sleep(1)
                    seconds = measure(emulator, smtp, webhook, MISSIONS[0], args.timeout)
                    # Its end too, so that no run of this start holds the source's slot for
                    # the next one.
                    wait_for(lambda: ended(MISSIONS[0], emulator), timeout=args.timeout)
                    return seconds["letter accepted"]
                except AssertionError:
                    dump_stacks(process.pid, root / "py-spy.txt")
                    return None
        except AssertionError:  # it never answered (serving dumps no stacks)
            return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_starts", description=__doc__)
    parser.add_argument("--starts", type=int, default=8)
    parser.add_argument("--timeout", type=float, default=60.0)
    parser.add_argument("--poll", help="PREFECT_RUNNER_POLL_FREQUENCY for cae serve")
    parser.add_argument("--shared-rate-off", action="store_true")
    parser.add_argument("--subprocess", action="store_true")
    parser.add_argument("--keep", help="a folder to keep the logs in (default: a temporary one)")
    args = parser.parse_args(argv)
    root = Path(args.keep or tempfile.mkdtemp(prefix="cae-starts-"))
    root.mkdir(parents=True, exist_ok=True)
    results: list[float | None] = []
    with PrefectServer(root / "prefect") as server:
        os.environ.update(server.client_environment())
        os.environ["CAE_SHARED_RATE"] = "off"  # this process's own clients: see bench.latency
        for start in range(1, args.starts + 1):
            seconds = start_once(root / f"start-{start}", server, args)
            shown = "HUNG (py-spy.txt)" if seconds is None else f"letter after {seconds:.2f} s"
            runner = by_runner(root / f"start-{start}" / "serve.log")
            print(f"start {start}: {shown}; runs started by the runner: {runner}", flush=True)
            results.append(seconds)
    delivered = [s for s in results if s is not None]
    print(f"\n{len(delivered)} of {len(results)} starts delivered; logs in {root}")


if __name__ == "__main__":
    main()
