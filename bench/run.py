"""The benchmark runner: what a run costs at each size (``bench/README.md``).

    python -m bench.run [--sizes S,M,L] [--out bench/results]

For each size: generate the cooperative; time the engine alone (``charter.evaluate``, no I/O);
run the daily flow on the CSV folder in a child process against a real Prefect server (wall
time, peak memory, documents rendered per second, Prefect task runs); run it on Airtable against
the emulator (requests against the fewest possible, 429s, wall time against the rate-limit
floor); run the record-by-record baseline on the same base. Results go to ``results.json`` and
``results.md`` in the out folder, written again after every step.

Not part of the test suite; CI does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

from bench.generate import AS_OF, SEED, SIZES, generate
from bench.prefect_server import PrefectServer

ROOT = Path(__file__).resolve().parent.parent
RATE = 5  # Airtable's requests a second per base

#: Sizes at which the Airtable run is timed at the real limit (L is counted with it lifted:
#: an Airtable base cannot hold it) and at which the baseline is timed (elsewhere counted).
REAL_LIMIT_SIZES = ("S", "M")
BASELINE_TIMED_SIZES = ("S",)


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()


class Bench:
    def __init__(self, out: Path, sizes: list[str], seed: int, as_of: date, steps: set[str]):
        self.out = out
        self.sizes = sizes
        self.seed = seed
        self.as_of = as_of
        self.steps = steps
        self.results: dict[str, Any] = {
            "command": "python -m bench.run " + " ".join(sys.argv[1:]),
            "commit": git("rev-parse", "--short", "HEAD"),
            "uncommitted_changes": bool(git("status", "--porcelain", "--untracked-files=no")),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "as_of": as_of.isoformat(),
            "seed": seed,
            "sizes": {},
        }
        self.server: PrefectServer | None = None

    # -- bookkeeping -------------------------------------------------------------------------

    def save(self) -> None:
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "results.json").write_text(
            json.dumps(self.results, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        from bench.report import markdown

        (self.out / "results.md").write_text(markdown(self.results), encoding="utf-8")

    def step(self, size: str, name: str, work: Callable[..., dict[str, Any]], *args: Any) -> None:
        if name not in self.steps:
            return
        print(f"[{time.strftime('%H:%M:%S')}] {size} {name}…", flush=True)
        load_before = [round(x, 2) for x in os.getloadavg()]
        began = time.perf_counter()
        try:
            figures = work(*args)
        except Exception as exc:  # one failed step must not lose the others' figures
            figures = {"failed": f"{type(exc).__name__}: {exc}"}
            print(f"  failed: {figures['failed']}", flush=True)
        figures["step_s"] = round(time.perf_counter() - began, 2)
        figures["load_average_before"] = load_before
        figures["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
        self.results["sizes"][size][name] = figures
        self.save()
        print(f"  {json.dumps(_brief(figures), ensure_ascii=False)}", flush=True)

    # -- the whole benchmark -----------------------------------------------------------------

    def run(self) -> None:
        needs_prefect = bool(self.steps & {"local", "airtable"})
        if needs_prefect:
            self.server = PrefectServer(self.out / "prefect")
            print("Prefect server start…", flush=True)
            self.results["prefect_server_startup_s"] = round(self.server.start(), 2)
        try:
            for size in self.sizes:
                self.results["sizes"][size] = {}
                folder = self.out / "data" / size
                began = time.perf_counter()
                synthetic = generate(size, self.seed, self.as_of)
                if folder.exists():
                    shutil.rmtree(folder)
                synthetic.write(folder)
                self.results["sizes"][size]["data"] = {
                    "records": synthetic.counts(),
                    "go_live": synthetic.go_live.isoformat(),
                    "generate_s": round(time.perf_counter() - began, 2),
                }
                del synthetic
                self.step(size, "engine", engine, folder, self.as_of, size)
                self.step(size, "render", render_sample, folder, self.as_of, size)
                self.step(size, "local", self.local, size, folder)
                real = size in REAL_LIMIT_SIZES
                self.step(size, "airtable", self.airtable, size, folder, real)
                timed = size in BASELINE_TIMED_SIZES
                self.step(size, "baseline", self.baseline, size, folder, timed)
        finally:
            if self.server is not None:
                self.server.stop()
            self.results["finished"] = time.strftime("%Y-%m-%d %H:%M:%S")
            self.save()

    # -- steps -------------------------------------------------------------------------------

    def local(self, size: str, folder: Path) -> dict[str, Any]:
        out = self.out / "runs" / size / "local"
        child = self.child(["--source", "local"], folder, out, {})
        child.pop("called_at")  # the Airtable step's, to set against the emulator's log
        del child["summary_documents"]  # only the Airtable step needs them, for its minimum
        return {**child, **self.prefect_figures(child)}

    def airtable(self, size: str, folder: Path, real_limit: bool) -> dict[str, Any]:
        from bench.airtable_base import (
            BASE,
            TOKEN,
            environment,
            load_base,
            run_minimum,
            statuses,
            table_sizes,
        )
        from emulators.airtable import AirtableEmulator

        out = self.out / "runs" / size / "airtable"
        limit = RATE if real_limit else None
        with AirtableEmulator(TOKEN, BASE, rate_limit=limit, penalty_seconds=30.0) as emulator:
            began = time.perf_counter()
            load_base(emulator, folder)
            load_s = time.perf_counter() - began
            before, status_before = table_sizes(emulator), statuses(emulator)
            child = self.child(
                ["--source", "airtable"], folder, out, environment(emulator, real_limit=real_limit)
            )
            called = child.pop("called_at")  # set against the emulator's log, not a figure
            requests = emulator.count()
            arrivals = sorted(r.timestamp for r in emulator.requests)
            lists = emulator.count(operation="list")
            too_many = emulator.count_429()
            after, status_after = table_sizes(emulator), statuses(emulator)
        changed = sum(1 for k, v in status_after.items() if status_before.get(k) != v)
        minimum = run_minimum(before, after, child.pop("summary_documents"), changed)
        floor = requests / RATE
        figures: dict[str, Any] = {
            "rate_limit": "5/s, 30 s penalty" if real_limit else "lifted (count only)",
            "load_s": round(load_s, 2),
            "records_before": before,
            "ledger_rows_claimed": {t: after[t] - before[t] for t in ("Versements", "Courriers")},
            "status_rows": changed,
            "requests": requests,
            "list_requests": lists,
            "write_requests": requests - lists,
            "minimum_requests": minimum,
            "requests_over_minimum": requests - minimum,
            "http_429": too_many,
            "floor_s": round(floor, 1),
            **child,
        }
        if real_limit:
            figures["wall_over_floor"] = round(child["flow_s"] / floor, 3)
        if arrivals:  # where the wall time goes: before the first request, between, after
            figures["before_first_request_s"] = round(arrivals[0] - called, 2)
            figures["requests_span_s"] = round(arrivals[-1] - arrivals[0], 2)
            figures["after_last_request_s"] = round(called + child["flow_s"] - arrivals[-1], 2)
        figures.update(self.prefect_figures(child))
        if real_limit and "run_s" in figures:
            figures["run_over_floor"] = round(figures["run_s"] / floor, 3)
        return figures

    def baseline(self, size: str, folder: Path, timed: bool) -> dict[str, Any]:
        from bench.airtable_base import BASE, TOKEN, environment, load_base
        from emulators.airtable import AirtableEmulator

        out = self.out / "runs" / size / "baseline"
        out.mkdir(parents=True, exist_ok=True)
        limit = RATE if timed else None
        with AirtableEmulator(TOKEN, BASE, rate_limit=limit, penalty_seconds=30.0) as emulator:
            load_base(emulator, folder)
            result_file = out / "result.json"
            command = [sys.executable, "-m", "bench.baseline", "--data", str(folder)]
            command += ["--as-of", self.as_of.isoformat(), "--result", str(result_file)]
            env = {**os.environ, **environment(emulator, real_limit=timed)}
            with (out / "baseline.log").open("wb") as log:
                subprocess.run(command, env=env, stdout=log, stderr=subprocess.STDOUT, check=True)
            requests, too_many = emulator.count(), emulator.count_429()
        result = json.loads(result_file.read_text(encoding="utf-8"))
        figures = {
            "rate_limit": "5/s, 30 s penalty" if timed else "lifted (count only)",
            "requests": requests,
            "http_429": too_many,
            "floor_s": round(requests / RATE, 1),
            **result,
        }
        if not timed:
            figures.pop("wall_s", None)
        return figures

    def child(
        self, source: list[str], folder: Path, out: Path, env: dict[str, str]
    ) -> dict[str, Any]:
        """One flow run in a child process: its own timings, and its wall time and peak
        memory as the parent sees them."""
        assert self.server is not None
        if out.exists():
            shutil.rmtree(out)  # a fresh ledger: the go-live run
        out.mkdir(parents=True)
        result_file = out.parent / f"{out.name}-result.json"
        command = [sys.executable, "-m", "bench.child", *source, "--data", str(folder)]
        command += ["--as-of", self.as_of.isoformat(), "--out", str(out)]
        command += ["--result", str(result_file)]
        # One run alone on its base: the budget shared between processes through the Prefect
        # server (integrations/shared_rate.py) would add a server call per request and pace at
        # 4 a second, measuring the budget rather than the run. CAE_SHARED_RATE=on measures it.
        shared = {"CAE_SHARED_RATE": os.environ.get("CAE_SHARED_RATE", "off")}
        environment = {**os.environ, **self.server.client_environment(), **shared, **env}
        with (out.parent / f"{out.name}.log").open("wb") as log:
            began = time.perf_counter()
            process = subprocess.Popen(
                command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
            sampler = TreeMemory(process.pid)
            _, status, usage = os.wait4(process.pid, 0)
            process.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - began
            tree_peak = sampler.stop()
        if process.returncode != 0:
            raise RuntimeError(f"child exited {process.returncode}; see {out.parent}")
        result = json.loads(result_file.read_text(encoding="utf-8"))
        return {
            **result,
            "process_wall_s": round(wall, 2),
            # The run's own process (Linux: KiB), and with its rendering workers (sampled).
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),
            "peak_tree_rss_mib": round(tree_peak / 1024, 1),
            "import_s": round(result["import_s"], 2),
            "flow_s": round(result["flow_s"], 2),
        }

    def prefect_figures(self, child: dict[str, Any]) -> dict[str, Any]:
        """The flow run's task runs, as the Prefect server recorded them."""
        assert self.server is not None
        from prefect import get_client
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
        from prefect.settings import PREFECT_API_URL, temporary_settings

        with (
            temporary_settings({PREFECT_API_URL: self.server.api_url}),
            get_client(sync_client=True) as client,
        ):
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID(child["flow_run_id"])]))
            )
            flow_run = client.read_flow_run(UUID(child["flow_run_id"]))
        tasks: dict[str, float] = {}
        for run in runs:
            name = run.name.rsplit("-", 1)[0]
            tasks[name] = round(tasks.get(name, 0.0) + run.total_run_time.total_seconds(), 3)
        figures: dict[str, Any] = {"task_runs": len(runs), "task_s": tasks}
        if flow_run.start_time and flow_run.end_time:  # Running → Completed, as the UI shows it
            figures["run_s"] = round((flow_run.end_time - flow_run.start_time).total_seconds(), 2)
        render = tasks.get("render-documents")
        if render and child.get("documents"):
            figures["documents_per_s"] = round(child["documents"] / render, 1)
            workers = child.get("render_workers", 1)
            figures["documents_per_core_s"] = round(child["documents"] / render / workers, 1)
        return figures


class TreeMemory:
    """The peak of the summed resident memory of a process and its descendants, sampled
    every 0.1 s from /proc (the rendering workers are processes of their own)."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            self.peak_kib = max(self.peak_kib, sum(_rss_kib(p) for p in _tree(self.pid)))

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak_kib


def _tree(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                queue += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def engine(folder: Path, as_of: date, size: str) -> dict[str, Any]:
    """The pure evaluation, no I/O: records loaded once, ``evaluate`` timed a few times."""
    from charter.evaluate import evaluate
    from integrations.assemble import assemble
    from integrations.workbook import LocalWorkbook
    from settings.config import Config

    config = Config.find(folder)
    began = time.perf_counter()
    tables = LocalWorkbook(folder).read(config.schema)
    read = time.perf_counter()
    coop, _ = assemble(tables, config.schema)
    assembled = time.perf_counter()
    times = []
    evaluation = None
    for _ in range(5 if size == "S" else 3):
        start = time.perf_counter()
        evaluation = evaluate(coop, {}, as_of, config.charter, config.go_live)
        times.append(time.perf_counter() - start)
    assert evaluation is not None
    issued = [d for d in evaluation.documents if not d.historical]
    return {
        "evaluate_s": round(min(times), 3),
        "evaluate_median_s": round(statistics.median(times), 3),
        "read_csv_s": round(read - began, 2),
        "assemble_s": round(assembled - read, 2),
        "documents_due": len(issued),
        "historical": len(evaluation.documents) - len(issued),
        "alerts": len(evaluation.alerts),
    }


def render_sample(folder: Path, as_of: date, size: str, count: int = 300) -> dict[str, Any]:
    """Documents per second per core: a sample of the run's letters rendered here, one by
    one, timed in CPU seconds (so other work on the machine does not count against it)."""
    import random

    from charter.evaluate import evaluate
    from documents.rendering import Renderer
    from integrations.assemble import assemble
    from integrations.workbook import LocalWorkbook
    from settings.config import Config

    config = Config.find(folder)
    coop, _ = assemble(LocalWorkbook(folder).read(config.schema), config.schema)
    documents = [
        d
        for d in evaluate(coop, {}, as_of, config.charter, config.go_live).documents
        if not d.historical
    ]
    random.Random(size).shuffle(documents)
    sample = documents[: count + 1]
    renderer = Renderer(config.cooperative, config.charter)

    def render(doc: Any) -> int:
        result = renderer.render(
            doc,
            member=coop.members[doc.member_id],
            mission=coop.missions.get(doc.mission_id or ""),
            sponsor=coop.members.get(doc.sponsor_id or ""),
            as_of=as_of,
        )
        return len(result.pdf)

    render(sample[0])  # fonts and templates loaded once, as in a run
    cpu, wall = time.process_time(), time.perf_counter()
    sizes = [render(doc) for doc in sample[1:]]
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return {
        "documents": len(sizes),
        "per_cpu_second": round(len(sizes) / cpu, 1),
        "per_wall_second": round(len(sizes) / wall, 1),
        "cpu_ms_per_document": round(1000 * cpu / len(sizes), 1),
        "pdf_kib_mean": round(sum(sizes) / len(sizes) / 1024, 1),
        "kinds": dict(sorted(Counter(d.kind for d in sample[1:]).items())),
    }


def _brief(figures: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "failed", "evaluate_s", "per_cpu_second", "flow_s", "peak_rss_mib", "documents",
        "documents_per_s",
        "task_runs", "requests", "minimum_requests", "http_429", "floor_s", "wall_over_floor",
        "wall_s", "step_s",
    )  # fmt: skip
    return {k: figures[k] for k in keys if k in figures}


STEPS = ("engine", "render", "local", "airtable", "baseline")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmarks of the daily run (bench/README.md)")
    parser.add_argument("--sizes", default="S,M", help="comma-separated: S,M,L (default S,M)")
    parser.add_argument("--steps", default=",".join(STEPS), help=f"among {','.join(STEPS)}")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    args = parser.parse_args(argv)
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    unknown = [s for s in sizes if s not in SIZES]
    steps = {s.strip() for s in args.steps.split(",") if s.strip()}
    if unknown or steps - set(STEPS):
        parser.error(f"unknown size or step: {unknown or sorted(steps - set(STEPS))}")
    Bench(args.out.resolve(), sizes, args.seed, args.as_of, steps).run()
    print(f"→ {args.out / 'results.json'} and results.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
