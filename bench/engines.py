"""The PDF engines side by side on the run's own letters: WeasyPrint (the former engine) and
Typst (the engine the run uses), in one process, timed in CPU seconds.

    python -m bench.engines                      # the example's letters as of 2026-11-26
    python -m bench.engines --size M --count 300 # a seeded sample of a synthetic M run's letters

Each letter's HTML is made once by the run's own Jinja2 templates; then each engine turns
every letter into a PDF, after one letter of warm-up (fonts and layout loaded once, as in a
run), the engines taking turns over ``--rounds`` rounds; the best round of each is reported.
"Whole letter" is what the run does per letter: HTML, PDF (Typst) and the two email bodies
(``Renderer.render``). WeasyPrint is in the ``bench`` extra (``pip install -e ".[bench]"``) and
needs Pango; without it only Typst is measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def letters(folder: Path, as_of: date, count: int | None, seed: str) -> tuple[list[Any], Any]:
    """The run's letters as of ``as_of`` (``RenderJob``), all or a seeded sample of ``count``."""
    from charter.evaluate import evaluate
    from documents.rendering import RenderJob
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
    if count is not None:
        random.Random(seed).shuffle(documents)
        documents = documents[:count]
    return [
        RenderJob(
            d,
            coop.members[d.member_id],
            coop.missions.get(d.mission_id or ""),
            coop.members.get(d.sponsor_id or ""),
        )
        for d in documents
    ], config


def weasyprint_engine() -> Callable[[str, str], bytes] | None:
    """The former engine as the run used it: the stylesheet parsed once, one font
    configuration, the file identifier from the key. ``None`` when WeasyPrint is absent."""
    try:
        from weasyprint import CSS, HTML
        from weasyprint.text.fonts import FontConfiguration
    except (ImportError, OSError):
        return None
    import re

    from documents.rendering import TEMPLATES_DIR

    fonts = FontConfiguration()
    css_text = (TEMPLATES_DIR / "letter.css").read_text("utf-8")
    css = CSS(string=css_text, base_url=str(TEMPLATES_DIR), font_config=fonts)
    inline_style = re.compile(r"<style>(.*?)</style>", re.DOTALL)

    def pdf(html: str, key: str) -> bytes:
        identifier = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32].encode("ascii")
        sheets = []
        inline = inline_style.search(html)
        if inline is not None and inline.group(1).strip() == css_text.strip():
            html = html[: inline.start()] + html[inline.end() :]
            sheets.append(css)
        made: bytes = HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf(
            pdf_identifier=identifier, stylesheets=sheets, font_config=fonts
        )
        return made

    return pdf


def measure(folder: Path, as_of: date, count: int | None, rounds: int, seed: str) -> dict:
    from documents.rendering import Renderer, proper_names
    from documents.typst_pdf import TypstPdf

    jobs, config = letters(folder, as_of, count, seed)
    renderer = Renderer(config.cooperative, config.charter)

    def whole(job: Any) -> bytes:
        return renderer.render(
            job.doc, member=job.member, mission=job.mission, sponsor=job.sponsor, as_of=as_of
        ).pdf

    made = [
        (job, renderer.render(job.doc, member=job.member, mission=job.mission,
                              sponsor=job.sponsor, as_of=as_of).html)
        for job in jobs
    ]  # fmt: skip
    typst = TypstPdf()
    engines: dict[str, Callable[[Any, str], bytes]] = {
        "typst": lambda job, html: typst.pdf(
            html, key=job.doc.key, names=proper_names(job.member, job.mission, job.sponsor)
        ),
        "whole letter (Typst)": lambda job, html: whole(job),
    }
    weasy = weasyprint_engine()
    if weasy is not None:
        engines["weasyprint"] = lambda job, html: weasy(html, job.doc.key)
    best: dict[str, dict[str, Any]] = {}
    for engine in engines.values():
        engine(*made[0])  # warm-up
    for _ in range(rounds):
        for name, engine in engines.items():
            cpu, wall = time.process_time(), time.perf_counter()
            sizes = [len(engine(job, html)) for job, html in made]
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            figures = {
                "letters": len(sizes),
                "per_cpu_second": round(len(sizes) / cpu, 1),
                "cpu_ms_per_letter": round(1000 * cpu / len(sizes), 1),
                "per_wall_second": round(len(sizes) / wall, 1),
                "pdf_kib_mean": round(sum(sizes) / len(sizes) / 1024, 1),
            }
            if name not in best or figures["per_cpu_second"] > best[name]["per_cpu_second"]:
                best[name] = figures
    again = [engines["typst"](job, html) for job, html in made]
    first = [engines["typst"](job, html) for job, html in made]
    return {
        "letters": len(made),
        "kinds": dict(sorted(Counter(job.doc.kind for job, _ in made).items())),
        "rounds": rounds,
        "engines": best,
        "weasyprint": "measured" if weasy is not None else "not installed",
        "typst_same_bytes_twice": again == first,
    }


def sample_parser(description: str) -> argparse.ArgumentParser:
    """The options of a benchmark of single letters: which letters, how many rounds."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--data", type=Path, default=ROOT / "cae" / "example")
    parser.add_argument("--size", help="a synthetic cooperative (S, M, L) instead of --data")
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2026, 11, 26))
    parser.add_argument("--count", type=int, help="a seeded sample of this many letters")
    parser.add_argument("--rounds", type=int, default=3)
    return parser


def letter_source(args: argparse.Namespace, prefix: str) -> tuple[Path, str, bool]:
    """The cooperative's folder, its name, and whether it was generated (into a temporary
    folder named after ``prefix``) for ``--size``."""
    if not args.size:
        return args.data, str(args.data), False
    from bench.generate import SEED, generate

    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}-{args.size}-"))
    generate(args.size.upper(), SEED, args.as_of).write(folder)
    return folder, f"synthetic {args.size.upper()}", True


def main(argv: list[str] | None = None) -> int:
    args = sample_parser("PDF engines side by side (bench/README.md)").parse_args(argv)
    folder, source, _ = letter_source(args, "engines")
    result = measure(folder, args.as_of, args.count, args.rounds, args.size or "example")
    result["source"] = source
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
