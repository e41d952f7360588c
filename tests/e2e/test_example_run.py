"""The daily job end to end on the bundled example, through a real Prefect server.

The expected figures in ``expected_example.json`` were worked out by hand from docs/charter.md,
independently of the code (each entry says why).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from flows.daily import daily
from settings.defaults import EXAMPLE_DIR, EXAMPLE_LATER_DIR
from tests.support.example_runs import RUN_1, RUN_2, assert_matches

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]


def read_rows(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def test_december_example_is_november_with_the_documented_edits():
    """The hand computation of run 2 assumes exactly these edits, and no other change."""
    edited = {path.name: read_rows(path) for path in EXAMPLE_DIR.glob("*.csv")}
    for edit in RUN_2["edits_before"]:
        rows = edited[edit["file"]]
        (row,) = [row for row in rows[1:] if row[0] == edit["record"]]
        row[rows[0].index(edit["field"])] = edit["value"]
    later = {path.name: read_rows(path) for path in EXAMPLE_LATER_DIR.glob("*.csv")}
    assert later == edited
    assert (EXAMPLE_LATER_DIR / "cae.toml").read_text() == (EXAMPLE_DIR / "cae.toml").read_text()


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run 1, the same day again, then run 2 a month later on the edited data."""
    out = tmp_path_factory.mktemp("example") / "out"
    runs = {}
    data = str(EXAMPLE_DIR)  # the project never writes into the data folder
    state = daily(data=data, as_of=date(2026, 11, 26), out=str(out), return_state=True)
    runs["first"] = state.result()
    runs["first_run_id"] = state.state_details.flow_run_id
    runs["first_files"] = {p.relative_to(out) for p in out.rglob("*") if p.is_file()}
    runs["again"] = daily(data=data, as_of=date(2026, 11, 26), out=str(out))
    later = str(EXAMPLE_LATER_DIR)
    runs["second"] = daily(data=later, as_of=date(2026, 12, 28), out=str(out))
    runs["out"] = out
    return runs


def test_first_run_issues_the_hand_computed_documents_alerts_and_errors(example):
    assert_matches(RUN_1, example["first"])


def test_every_document_is_in_the_out_folder_as_html_pdf_and_email(example):
    for doc in example["first"]["documents"]:
        assert doc["delivery"] == "outbox"
        assert sorted(Path(f).suffix for f in doc["files"]) == [".eml", ".html", ".pdf"]
        for name in doc["files"]:
            assert (example["out"] / name).stat().st_size > 0


def test_payout_pdf_reads_back_with_its_figures(example):
    (notice,) = [
        d
        for d in example["first"]["documents"]
        if d["key"] == "payout_mid:Refonte intranet Mairie de Montreuil"
    ]
    pdf = next(f for f in notice["files"] if f.endswith(".pdf"))
    text = " ".join(page.extract_text() for page in PdfReader(example["out"] / pdf).pages)
    flat = " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())
    stated = ["Objet : Avis de versement", "750,00 €", "10 000,00 €", "15 %", "26 novembre 2026"]
    assert [phrase for phrase in [*stated, "Aïcha Benali"] if phrase not in flat] == []


def test_run_summary_is_written_in_the_documented_shape(example):
    written = json.loads((example["out"] / "run-summary.json").read_text("utf-8"))
    assert written == example["second"]
    assert set(written) == {
        "as_of",
        "source",
        "preview",
        "source_requests",
        "documents",
        "alerts",
        "errors",
    }
    assert written["preview"] is False and written["source_requests"] == 0
    assert written["source"] == "local"
    kinds = [d["kind"] for d in example["first"]["documents"]]
    assert kinds == sorted(kinds)


def test_same_day_again_issues_nothing_new(example):
    assert example["again"]["documents"] == []
    assert len(example["again"]["alerts"]) == len(example["first"]["alerts"])


def test_a_month_later_only_what_became_due_is_issued(example):
    assert_matches(RUN_2, example["second"])
    first_keys = {d["key"] for d in example["first"]["documents"]}
    assert not first_keys & {d["key"] for d in example["second"]["documents"]}


def test_between_them_the_two_runs_cover_every_document_and_alert_kind(example):
    runs = (example["first"], example["second"])
    assert {d["kind"] for r in runs for d in r["documents"]} == {
        "payout_mid", "payout_delivery", "contribution_statement", "resignation_ack",
        "resignation_invalid", "non_renewal", "renewal", "plenary_warning", "exclusion",
        "associate_reminder", "sponsorship_end",
    }  # fmt: skip
    assert {a["kind"] for r in runs for a in r["alerts"]} == {
        "payout_regularisation", "mission_cancelled_after_payout", "mission_missing_roles",
        "non_renewal_too_late", "associate_deadline_passed", "sponsor_not_eligible",
        "sponsor_over_capacity", "piloted_mission_not_led_by_sponsor", "volunteering_shortfall",
        "workshop_missing",
    }  # fmt: skip


def test_run_leaves_a_markdown_and_a_table_artifact_and_few_task_runs(example):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
    )

    run_id = example["first_run_id"]
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
        task_runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
        )
        flow_run = client.read_flow_run(run_id)
    assert flow_run.name == "daily-2026-11-26"
    by_type = {a.type: a for a in artifacts}
    assert set(by_type) == {"markdown", "table"}
    report = by_type["markdown"].data
    assert "Documents émis (22)" in report
    assert "Erreurs de données (4)" in report
    assert "Léa Fontaine" in report
    # In French for the staff: amounts as "2 400,00 €", alerts in words with their code.
    assert "| 2\u202f400,00\u00a0€ |" in report and "2400.00" not in report
    assert "- **Mission sans chef·fe de projet ou lead dev** `mission_missing_roles` :" in report
    table = by_type["table"].data
    rows = json.loads(table) if isinstance(table, str) else table
    assert set(rows[0]) == {"document", "membre", "montant", "envoi"}
    assert "700,00\u00a0€" in [row["montant"] for row in rows]
    # A handful of batched tasks, whatever the number of records.
    assert len(task_runs) == 8
