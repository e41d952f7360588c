"""``results.md``: the benchmark's figures as a short markdown table."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TASKS = (
    "load-records", "read-ledger", "evaluate-charter", "claim-documents", "render-documents",
    "deliver-documents", "write-back-statuses", "publish-report",
)  # fmt: skip


def _get(figures: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(figures, dict) or key not in figures:
            return None
        figures = figures[key]
    return figures


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        text = f"{value:,.2f}" if value < 100 else f"{value:,.0f}"
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return text.replace(",", " ") + unit


def _ratio(a: Any, b: Any) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.2f}×"


Row = tuple[str, str, Callable[[dict[str, Any]], str]]


def _records(s: dict[str, Any]) -> str:
    counts = _get(s, "data", "records") or {}
    main = ("members", "missions", "invoices")
    other = sum(v for k, v in counts.items() if k not in main)
    return " / ".join(_fmt(counts.get(k)) for k in main) + f" (+{_fmt(other)})"


def _airtable_requests(s: dict[str, Any]) -> str:
    a = s.get("airtable") or {}
    if "requests" not in a:
        return _fmt(a.get("failed"))
    return f"{_fmt(a['requests'])} / {_fmt(a['minimum_requests'])}"


def _airtable_wall(s: dict[str, Any]) -> str:
    a = s.get("airtable") or {}
    if "wall_over_floor" not in a:
        return "– (limit lifted)" if "requests" in a else "–"
    times = f"{_fmt(a['flow_s'], ' s')} / {_fmt(a['floor_s'], ' s')}"
    return f"{times} = {a['wall_over_floor']:.2f}×"


def _baseline_requests(s: dict[str, Any]) -> str:
    b, a = s.get("baseline") or {}, s.get("airtable") or {}
    if "requests" not in b:
        return _fmt(b.get("failed"))
    return f"{_fmt(b['requests'])} ({_ratio(b['requests'], a.get('requests'))} cae's)"


def _baseline_wall(s: dict[str, Any]) -> str:
    b = s.get("baseline") or {}
    if "wall_s" in b:
        return f"{_fmt(b['wall_s'], ' s')} (floor {_fmt(b['floor_s'], ' s')})"
    return f"floor {_fmt(b['floor_s'], ' s')}" if "floor_s" in b else "–"


def _two(step_a: str, key_a: str, step_b: str, key_b: str) -> Callable[[dict[str, Any]], str]:
    return lambda s: f"{_fmt(_get(s, step_a, key_a))} / {_fmt(_get(s, step_b, key_b))}"


def _one(step: str, key: str, unit: str = "") -> Callable[[dict[str, Any]], str]:
    return lambda s: _fmt(_get(s, step, key), unit)


def rows() -> list[Row]:
    return [
        ("records: members / missions / invoices (+ other rows)", "", _records),
        ("engine: `evaluate` (best of 3–5)", "L < 3 s", _one("engine", "evaluate_s", " s")),
        (
            "documents due (issued) / historical (recorded)",
            "",
            _two("engine", "documents_due", "engine", "historical"),
        ),
        (
            "local run: flow wall time, Prefect server start-up excluded",
            "M < 30 s",
            _one("local", "flow_s", " s"),
        ),
        ("local run: imports (Python, Prefect, project)", "", _one("local", "import_s", " s")),
        (
            "local run: peak memory (RSS), the run's process / with its rendering workers",
            "L < 1 GiB",
            lambda s: (
                f"{_fmt(_get(s, 'local', 'peak_rss_mib'), ' MiB')} / "
                f"{_fmt(_get(s, 'local', 'peak_tree_rss_mib'), ' MiB')}"
            ),
        ),
        (
            "documents rendered per CPU second, HTML + PDF (sample of the run's letters)",
            "≥ 30 per core",
            _one("render", "per_cpu_second", "/s"),
        ),
        (
            "documents rendered per second in the local run (wall; worker processes)",
            "",
            lambda s: (
                f"{_fmt(_get(s, 'local', 'documents_per_s'), '/s')} "
                f"({_fmt(_get(s, 'local', 'render_workers'))})"
            ),
        ),
        (
            "Prefect task runs per flow run (local / Airtable)",
            "constant",
            _two("local", "task_runs", "airtable", "task_runs"),
        ),
        ("Airtable: requests / the fewest possible", "equal", _airtable_requests),
        ("Airtable: 429s received", "0", _one("airtable", "http_429")),
        ("Airtable: wall time / floor (requests ÷ 5/s)", "≤ 1.1×", _airtable_wall),
        ("baseline record by record: requests", "", _baseline_requests),
        ("baseline: wall time at 5/s", "", _baseline_wall),
    ]


def markdown(results: dict[str, Any]) -> str:
    sizes = list(results.get("sizes", {}))
    lines = [
        f"Command: `{results.get('command')}` — commit `{results.get('commit')}`"
        + (" (with uncommitted changes)" if results.get("uncommitted_changes") else ""),
        f"Machine: {results['machine']['cpus']} CPUs, Python {results['machine']['python']}; "
        f"as_of {results.get('as_of')}, seed {results.get('seed')}; "
        f"Prefect server start-up {_fmt(results.get('prefect_server_startup_s'), ' s')}.",
        "",
        "| figure | target | " + " | ".join(sizes) + " |",
        "|---|---|" + "---|" * len(sizes),
    ]
    for label, target, cell in rows():
        cells = [cell(results["sizes"][size]) for size in sizes]
        lines.append(f"| {label} | {target} | " + " | ".join(cells) + " |")
    lines += ["", "Time per task of the local run (s):", ""]
    lines.append("| task | " + " | ".join(sizes) + " |")
    lines.append("|---|" + "---|" * len(sizes))
    for task in TASKS:
        cells = [_fmt(_get(results["sizes"][s], "local", "task_s", task)) for s in sizes]
        lines.append(f"| {task} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
