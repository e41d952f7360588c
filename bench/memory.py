"""Peak memory of a run's first steps on a synthetic cooperative, in one process, no Prefect.

    python -m bench.memory --data /tmp/coop-L          # python -m bench.generate --size L first

Reads the folder and builds the cooperative (``services.records.load``, as the load-records
task does), evaluates the charter, then claims the documents in a fresh SQLite ledger, printing
the process's resident memory after each step and its peak (``ru_maxrss``). The letters are not
rendered: ``bench.run --steps local`` measures the whole run.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.generate import AS_OF


def rss_mib() -> float:
    """The process's resident memory now, from ``/proc/self/statm``."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--as-of", type=date.fromisoformat, default=AS_OF)
    parser.add_argument("--no-claim", action="store_true", help="stop after the evaluation")
    args = parser.parse_args(argv)

    from charter.evaluate import evaluate
    from integrations.ledger import SqliteLedger
    from integrations.workbook import LocalWorkbook
    from services.ledger import claim
    from services.records import load
    from services.summary import Namer
    from settings.config import Config

    config = Config.find(args.data)
    print(f"imports: {rss_mib():.0f} MiB")
    began = time.perf_counter()
    records = load(LocalWorkbook(args.data), config.schema)
    print(f"load: {time.perf_counter() - began:.1f} s, {rss_mib():.0f} MiB, peak {peak_mib():.0f}")
    began = time.perf_counter()
    evaluation = evaluate(records.coop, {}, args.as_of, config.charter, config.go_live)
    documents = evaluation.documents
    print(
        f"evaluate: {time.perf_counter() - began:.1f} s, {len(documents)} documents "
        f"({sum(d.historical for d in documents)} historical), {rss_mib():.0f} MiB, "
        f"peak {peak_mib():.0f}"
    )
    if not args.no_claim:
        with tempfile.TemporaryDirectory() as tmp:
            began = time.perf_counter()
            store = SqliteLedger(Path(tmp) / "ledger.sqlite")
            issued = claim(store, documents, args.as_of, Namer(records.coop, config.schema))
            print(
                f"claim: {time.perf_counter() - began:.1f} s, {len(issued)} to issue, "
                f"{rss_mib():.0f} MiB, peak {peak_mib():.0f}"
            )
    print(f"peak RSS: {peak_mib():.0f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
