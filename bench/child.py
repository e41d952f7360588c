"""One daily flow run in its own process, timed from inside; the parent measures its memory.

    python -m bench.child --source local --data DIR --as-of 2026-11-26 --out OUT --result R.json

``PREFECT_API_URL`` must point at a running Prefect server (``bench.run`` starts one). The
result file holds the import time, the flow's wall time, the flow run id and what it issued.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import date
from pathlib import Path

STARTED = time.perf_counter()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", default="local")
    parser.add_argument("--data", required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)

    from flows.daily import daily

    imported = time.perf_counter()
    called_at = time.time()  # wall clock, to set against the emulator's request log
    state = daily(
        data=args.data, as_of=args.as_of, out=args.out, source=args.source, return_state=True
    )
    finished = time.perf_counter()
    summary = state.result()
    documents = summary["documents"]
    from documents.rendering import PARALLEL_FROM, render_workers

    workers = render_workers() if len(documents) >= PARALLEL_FROM else 1
    result = {
        "import_s": imported - STARTED,
        "flow_s": finished - imported,
        "called_at": called_at,
        "flow_run_id": str(state.state_details.flow_run_id),
        "state": state.type.value,
        "documents": len(documents),
        "render_workers": workers,
        "documents_by_kind": dict(Counter(d["kind"] for d in documents)),
        "delivery": dict(Counter(d["delivery"] for d in documents)),
        "alerts": len(summary["alerts"]),
        "errors": len(summary["errors"]),
        "summary_documents": [{"kind": d["kind"]} for d in documents],
    }
    args.result.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
