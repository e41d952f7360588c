"""The CPU cost of one letter, both halves of it, on the run's own letters: rendering it (what
a render worker does: Jinja2, Typst, the result pickled) and delivering it (what the run's
process does: the result unpickled, the email built, the three files written, the journal and
the ledger's commit), in one process, timed in CPU seconds (``time.process_time``, which
counts the kernel's time in file and SQLite calls too).

    python -m bench.letter_cpu --size M --count 200           # a seeded sample of M's letters
    python -m bench.letter_cpu --size M --count 200 --out /tmp/letters

Each round renders every letter, then delivers every letter into a fresh out folder with a
fresh ledger (``--out``, else a temporary folder) through ``services.delivery.Delivery`` and
the outbox-only mailer, as ``cae run`` does; after one letter of warm-up, the best of
``--rounds`` rounds is kept for each half. Where the out folder is matters: creating a file
costs more CPU in some folders than in others (``bench/README.md``).
"""

from __future__ import annotations

import json
import pickle
import shutil
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

from bench.engines import letter_source, letters, sample_parser


def measure(
    folder: Path, as_of: date, count: int | None, rounds: int, seed: str, out: Path
) -> dict[str, Any]:
    from charter.model import LedgerStatus
    from documents.rendering import Renderer, render_one
    from integrations.assemble import assemble
    from integrations.journal import Journal
    from integrations.ledger import LedgerRow, SqliteLedger
    from integrations.outbox import Outbox
    from integrations.workbook import LocalWorkbook
    from services.delivery import Delivery, OutboxOnly, as_rendered
    from services.summary import Namer
    from settings.defaults import PARIS

    jobs, config = letters(folder, as_of, count, seed)
    coop, _ = assemble(LocalWorkbook(folder).read(config.schema), config.schema)
    renderer = Renderer(config.cooperative, config.charter)
    namer = Namer(coop, config.schema)
    sent_at = datetime.combine(as_of, clock(7, 0), PARIS)

    def render() -> list[bytes]:
        return [
            pickle.dumps(render_one(renderer, job, as_of), protocol=pickle.HIGHEST_PROTOCOL)
            for job in jobs
        ]

    def deliver(made: list[bytes]) -> None:
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        store = SqliteLedger(out / "ledger.sqlite")
        store.journal = Journal(out, "local")
        store.claim(
            [
                LedgerRow(
                    key=job.doc.key,
                    kind=job.doc.kind,
                    status=LedgerStatus.PENDING,
                    issued_on=as_of,
                    member_id=job.doc.member_id,
                )
                for job in jobs
            ]
        )
        delivery = Delivery(store, Outbox(out), OutboxOnly(), coop, namer, config.cooperative)
        started = time.process_time()
        for job, data in zip(jobs, made, strict=True):
            delivery._new_document(as_rendered(job.doc, pickle.loads(data)), sent_at)
        timings["deliver"].append(time.process_time() - started)
        store.journal.close()

    timings: dict[str, list[float]] = {"render": [], "deliver": []}
    renderer.render(
        jobs[0].doc, member=jobs[0].member, mission=jobs[0].mission, sponsor=jobs[0].sponsor,
        as_of=as_of,
    )  # fmt: skip
    for _ in range(rounds):
        started = time.process_time()
        made = render()
        timings["render"].append(time.process_time() - started)
        deliver(made)
    render_s, deliver_s = min(timings["render"]), min(timings["deliver"])
    n = len(jobs)
    return {
        "letters": n,
        "kinds": dict(sorted(Counter(job.doc.kind for job in jobs).items())),
        "rounds": rounds,
        "out": str(out),
        "render_cpu_ms": round(1000 * render_s / n, 2),
        "deliver_cpu_ms": round(1000 * deliver_s / n, 2),
        "letter_cpu_ms": round(1000 * (render_s + deliver_s) / n, 2),
        "letters_per_cpu_second": round(n / (render_s + deliver_s), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = sample_parser("One letter's CPU (bench/README.md)")
    parser.add_argument("--out", type=Path, help="the out folder delivery writes to")
    args = parser.parse_args(argv)
    folder, source, generated = letter_source(args, "letter-cpu")
    out = args.out or Path(tempfile.mkdtemp(prefix="letter-cpu-out-"))
    result = measure(folder, args.as_of, args.count, args.rounds, args.size or "example", out)
    result["source"] = source
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    if generated:
        shutil.rmtree(folder, ignore_errors=True)
    if args.out is None:
        shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
