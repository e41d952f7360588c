"""Bad input at scale (issue 8): malformed workbooks from ``tests/reliability/malformed.py``.

Each generated workbook is the example cooperative with several independent defects. A run on
it must complete, report each problem once with its table, record and field, and issue every
document of the clean run (worked out by hand in ``tests/e2e/expected_example.json``) except
those a defect legitimately takes away, with the same figures.

- ``test_generated_workbooks_read_and_evaluate_as_expected``: hundreds of workbooks through the
  reader, ``assemble`` and ``evaluate`` (the pure part of the daily flow, no Prefect), so that
  many are tried quickly. It prints how many bad inputs it tried.
- The daily flow end to end on one workbook holding every kind of defect, and on one whose
  names are markup and spreadsheet formulas: the summary, the HTML, the PDF text, the emails
  and the ledger's CSV export.

``python -m pytest -q -s tests/reliability/test_bad_input_at_scale.py`` prints the figures.
"""

from __future__ import annotations

import csv
import io
import random
import re
from collections import Counter
from datetime import date
from email import message_from_bytes
from email.policy import default as default_policy
from html.parser import HTMLParser
from pathlib import Path

import pytest
from markupsafe import escape
from pypdf import PdfReader

from cae.ledger_cli import FORMULA_PREFIXES, PLAIN_NUMBER, export_csv
from charter.evaluate import evaluate
from integrations.assemble import assemble
from integrations.ledger import SqliteLedger
from integrations.workbook import LocalWorkbook
from services.summary import Namer, document_details
from settings.config import Config
from tests.reliability.malformed import (
    CLEAN_DOCUMENTS,
    CSV_DEFECTS,
    FORMULAS,
    MARKUP,
    TYPST_MARKUP,
    Generated,
    Outcome,
    Workbook,
    generate,
    markup_or_formula_in_name,
    spoil_base,
)
from tests.support.example_runs import same_value

AS_OF = date(2026, 11, 26)
#: Workbooks tried by the fast test, and at most how many defects each holds.
WORKBOOKS = 300
MAX_DEFECTS = 8


def problems(generated: Generated, errors: Counter, documents: dict[str, dict]) -> list[str]:
    """What a run's errors and documents get wrong against the generated expectations."""
    found = []
    missing, extra = generated.errors - errors, errors - generated.errors
    if missing:
        found.append(f"errors not reported (or not as often): {dict(missing)}")
    if extra:
        found.append(f"errors reported but not expected (or too often): {dict(extra)}")
    expected = generated.documents
    if set(documents) != set(expected):
        found.append(
            f"documents missing: {sorted(set(expected) - set(documents))}; "
            f"unexpected: {sorted(set(documents) - set(expected))}"
        )
    for key in set(documents) & set(expected):
        for name, value in expected[key].items():
            if name in ("why", "key", "member", "mission", "sponsor"):
                continue
            if not same_value(value, documents[key].get(name)):
                actual = documents[key].get(name)
                found.append(f"{key}: {name} is {_short(actual)}, not {_short(value)}")
    return found


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) < 100 else f"{text[:60]}… ({len(text)} characters)"


def read_and_evaluate(folder: Path) -> tuple[Counter, dict[str, dict]]:
    """The daily flow's pure steps (load, assemble, evaluate) as ``flows/pipeline.py`` does
    them: the data errors and the documents that fall due on a fresh ledger."""
    settings = Config.find(folder, None)
    tables = LocalWorkbook(folder).read(settings.schema)
    coop, found = assemble(tables, settings.schema)
    evaluation = evaluate(coop, {}, AS_OF, settings.charter, settings.go_live)
    namer = Namer(coop, settings.schema)
    errors = tables.errors + found + [namer.error(e) for e in evaluation.errors]
    documents = {doc.key: document_details(doc, namer) for doc in evaluation.documents}
    return Counter((e.table, e.record, e.field) for e in errors), documents


def describe(generated: Generated) -> str:
    return f"seed {generated.seed}: " + ", ".join(o.name for o in generated.outcomes)


def test_the_clean_example_meets_the_hand_computed_oracle(tmp_path: Path) -> None:
    """The oracle itself: no defect, the 22 documents and 4 errors worked out by hand."""
    clean = Generated(-1, Workbook.example(), [])
    errors, documents = read_and_evaluate(clean.workbook.write(tmp_path / "clean"))
    assert len(documents) == len(CLEAN_DOCUMENTS) == 22
    assert problems(clean, errors, documents) == []


def test_generated_workbooks_read_and_evaluate_as_expected(tmp_path: Path) -> None:
    failures: list[str] = []
    tried = Counter[str]()
    rng = random.Random(20261126)
    for seed in range(WORKBOOKS):
        generated = generate(seed, rng.randint(1, MAX_DEFECTS))
        tried.update(o.name.split(" (")[0] for o in generated.outcomes)
        folder = generated.workbook.write(tmp_path / f"w{seed}")
        errors, documents = read_and_evaluate(folder)
        failures += [f"{describe(generated)}: {p}" for p in problems(generated, errors, documents)]
    print(
        f"\nbad inputs tried: {sum(tried.values())} defects in {WORKBOOKS} workbooks "
        f"({len(tried)} kinds): {dict(sorted(tried.items()))}"
    )
    assert len(tried) >= 20  # every kind was drawn
    assert not failures, "\n".join(failures[:20])


# ---- the daily flow end to end ----------------------------------------------------------------


def every_defect_once(seed: int) -> Generated:
    """The example with each kind of defect applied once (when its records are free)."""
    rng = random.Random(seed)
    workbook = Workbook.example()
    outcomes = [o for defect in CSV_DEFECTS if (o := defect(workbook, rng)) is not None]
    return Generated(seed, workbook, outcomes)


def hostile_names(seed: int) -> Generated:
    """Members and missions due letters renamed to every markup and formula in the lists."""
    rng = random.Random(seed)
    workbook = Workbook.example()
    outcomes: list[Outcome] = []
    # Typst's markup first, so that every run prints it in a PDF; then drawn from the lists.
    for text in [*TYPST_MARKUP, *([None] * 40)]:
        outcome = markup_or_formula_in_name(workbook, rng, text)
        if outcome is not None:
            outcomes.append(outcome)
    return Generated(seed, workbook, outcomes)


class _StartTags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, tuple[str, ...]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, tuple(name for name, _ in attrs)))


def start_tags(html: str) -> list[tuple[str, tuple[str, ...]]]:
    """The elements of an HTML document with the names of their attributes, in order (an
    attribute's value may hold a name: it is then escaped text, see the test)."""
    parser = _StartTags()
    parser.feed(html)
    return parser.tags


def pdf_text(path: Path) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(path).pages)
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, prefect_server: None) -> dict:
    from flows.daily import daily

    result = {}
    for name, generated in (("defects", every_defect_once(8)), ("names", hostile_names(3))):
        root = tmp_path_factory.mktemp(name)
        folder = generated.workbook.write(root / "data")
        out = root / "out"
        summary = daily(data=str(folder), as_of=AS_OF, out=str(out))
        result[name] = (generated, summary, out)
    clean_root = tmp_path_factory.mktemp("clean")
    clean = Generated(-1, Workbook.example(), [])
    clean_out = clean_root / "out"
    folder = clean.workbook.write(clean_root / "data")
    result["clean"] = (clean, daily(data=str(folder), as_of=AS_OF, out=str(clean_out)), clean_out)
    return result


def summary_errors(summary: dict) -> Counter:
    return Counter((e["table"], e["record"], e["field"]) for e in summary["errors"])


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["defects", "names"])
def test_the_daily_run_reports_each_problem_once_and_issues_every_valid_document(
    runs: dict, name: str
) -> None:
    generated, summary, _ = runs[name]
    documents = {d["key"]: d for d in summary["documents"]}
    assert problems(generated, summary_errors(summary), documents) == [], describe(generated)
    assert len(generated.outcomes) >= (19 if name == "defects" else 8)


@pytest.mark.e2e
def test_every_error_names_its_table_record_and_field_in_french(runs: dict) -> None:
    _, summary, _ = runs["defects"]
    for error in summary["errors"]:
        assert error["table"] and error["record"] and error["field"], error
        assert error["message"] and len(error["message"]) < 400, error
        assert re.search(r"[éèàêç«]|ne |n'", error["message"]), error["message"]


def file_of(out: Path, document: dict, suffix: str) -> Path:
    (path,) = [out / f for f in document["files"] if f.endswith(suffix)]
    return path


@pytest.mark.e2e
def test_rendered_letters_show_markup_as_text(runs: dict) -> None:
    """Letters to members and about missions renamed to markup: the HTML has exactly the
    elements of the same letter in the clean run, the name shows escaped in the HTML and the
    email's HTML part, and as the very characters typed in the PDF's text and the plain part."""
    generated, summary, out = runs["names"]
    _, clean_summary, clean_out = runs["clean"]
    clean_by_new_key = {generated.renamed(d["key"]): d for d in clean_summary["documents"]}
    hostile = [
        new
        for o in generated.outcomes
        for new in o.renames.values()
        if any(m in new for m in MARKUP)
    ]
    checked = 0
    for doc in summary["documents"]:
        names = [n for n in hostile if n in (doc["member"], doc.get("mission"))]
        if not names:
            continue
        html = file_of(out, doc, ".html").read_text("utf-8")
        clean_html = file_of(clean_out, clean_by_new_key[doc["key"]], ".html").read_text("utf-8")
        assert start_tags(html) == start_tags(clean_html), doc["key"]
        message = message_from_bytes(file_of(out, doc, ".eml").read_bytes(), policy=default_policy)
        email_html = message.get_body(("html",)).get_content()
        email_text = message.get_body(("plain",)).get_content()
        text = pdf_text(file_of(out, doc, ".pdf"))
        for name in names:
            escaped = str(escape(name))  # Typst's markup may hold nothing HTML escapes
            assert escaped in html and (escaped == name or name not in html), (doc["key"], name)
            assert escaped in email_html, (doc["key"], name)
            assert escaped == name or name not in email_html, (doc["key"], name)
            assert name in email_text, (doc["key"], name)
            assert " ".join(name.split()) in text, (doc["key"], name, text[:300])
        checked += 1
    assert checked >= 4, hostile


@pytest.mark.e2e
def test_the_ledger_csv_export_neutralises_formulas(runs: dict) -> None:
    generated, summary, out = runs["names"]
    formulas = [
        new for o in generated.outcomes for new in o.renames.values() if new.startswith(FORMULAS)
    ]
    assert formulas, "the generator renamed nothing to a formula"
    text = export_csv(SqliteLedger(out / "ledger.sqlite").rows())
    cells = [cell for row in csv.reader(io.StringIO(text)) for cell in row]
    assert not [
        c for c in cells if c.startswith(FORMULA_PREFIXES) and not PLAIN_NUMBER.fullmatch(c)
    ]
    assert all(f"'{name}" in cells for name in formulas if name in cells or f"'{name}" in cells)
    assert any(f"'{name}" in cells for name in formulas)


@pytest.mark.e2e
def test_a_spoiled_airtable_base_is_reported_once_and_every_valid_record_processed(
    tmp_path: Path, prefect_server: None
) -> None:
    """The same promise on Airtable, with what an Airtable base can hold (``AIRTABLE_DEFECTS``):
    the daily flow on the emulator, through the real pyairtable client."""
    from dataclasses import replace

    from emulators.airtable import AirtableEmulator
    from flows.daily import daily
    from integrations.airtable import AirtableClient, AirtableSettings
    from integrations.airtable_init import init_base
    from settings.defaults import EXAMPLE_DIR
    from tests.support.airtable_example import BASE, PENALTY, TOKEN, environment

    with AirtableEmulator(TOKEN, BASE, penalty_seconds=PENALTY) as emulator:
        settings = AirtableSettings.from_environment(env=environment(emulator))
        limit, emulator.rate_limit = emulator.rate_limit, None
        client = AirtableClient(replace(settings, requests_per_second=1000))
        init_base(client, Config().schema, EXAMPLE_DIR)
        spoiled = spoil_base(emulator)
        emulator.rate_limit = limit
        with pytest.MonkeyPatch.context() as patch:
            for name, value in environment(emulator).items():
                patch.setenv(name, value)
            summary = daily(source="airtable", as_of=AS_OF, out=str(tmp_path / "out"))
        names = {  # keys hold record ids on Airtable: name them as the CSV run does
            r["id"]: r["fields"].get(primary)
            for table, primary in (("Membres", "Nom"), ("Missions", "Mission"))
            for r in emulator.records(table)
        }
    documents = {
        ":".join(names.get(part) or part for part in d["key"].split(":")): d
        for d in summary["documents"]
    }
    assert problems(spoiled, summary_errors(summary), documents) == [], describe(spoiled)
    assert len(spoiled.outcomes) == 8
