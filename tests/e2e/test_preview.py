"""A preview (``preview=True``) shows what a real run would issue, and changes nothing.

On the example's CSV folder, with SMTP configured: the preview renders every document into
``OUT/apercu/`` and claims nothing (the ledger file stays absent, then byte-identical), no mail
server is contacted (a bare listening socket sees no connection), the run is tagged ``apercu``
and its report says that nothing was sent. The real run just after issues the very same
documents. On the Airtable and Notion emulators: the preview sends no write (Notion's queries
are POSTs that read), and the real run after it issues the same keys and amounts. A targeted
preview leaves its summary in ``OUT/apercu/`` and claims nothing either.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import socket
from datetime import date
from pathlib import Path

import pytest
from prefect import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId

from emulators.airtable import AirtableEmulator
from emulators.notion import NotionEmulator
from flows.daily import daily
from flows.targeted import targeted
from settings.defaults import EXAMPLE_DIR
from tests.support.airtable_example import BASE, PENALTY, TOKEN, build_example_base, environment
from tests.support.example_runs import MISSION, RUN_1, RUN_2
from tests.support.notion_example import FAST, build_workspace
from tests.support.notion_example import TOKEN as NOTION_TOKEN
from tests.support.notion_example import environment as notion_environment
from tests.support.smtp_server import SmtpServer, smtp_environment

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]
DAY_1, DAY_2 = date.fromisoformat(RUN_1["as_of"]), date.fromisoformat(RUN_2["as_of"])
WRITES = ("POST", "PATCH", "PUT", "DELETE")


def digest(path: Path) -> str | None:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else None


def issued(summary: dict) -> list[tuple[str, str | None]]:
    """Each document's key and amount."""
    return sorted((d["key"], d.get("amount")) for d in summary["documents"])


def preview_with_silent_smtp(monkeypatch: pytest.MonkeyPatch, **run: object) -> dict:
    """A preview with SMTP pointed at a socket that listens and never answers; return the
    summary, its run id, and whether anything connected to the socket."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        for name, value in smtp_environment(listener.getsockname()[1]).items():
            monkeypatch.setenv(name, value)
        state = daily(preview=True, return_state=True, **run)  # type: ignore[arg-type]
        listener.setblocking(False)
        try:
            listener.accept()[0].close()
            connected = True
        except BlockingIOError:
            connected = False
    return {"summary": state.result(), "run_id": state.state_details.flow_run_id, "smtp": connected}


def real_run(monkeypatch: pytest.MonkeyPatch, **run: object) -> tuple[dict, list[str]]:
    """A real run through a loopback SMTP server; return its summary and the keys mailed."""
    with SmtpServer() as smtp:
        for name, value in smtp.environment().items():
            monkeypatch.setenv(name, value)
        summary = daily(**run)  # type: ignore[arg-type]
    return summary, sorted(smtp.recorder.per_key())


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> dict:
    base = tmp_path_factory.mktemp("preview")
    data, out = base / "data", base / "out"
    shutil.copytree(EXAMPLE_DIR, data)
    ledger = out / "ledger.sqlite"
    runs: dict = {"out": out}
    with pytest.MonkeyPatch.context() as patch:
        run = {"data": str(data), "out": str(out)}
        runs["preview_1"] = preview_with_silent_smtp(patch, as_of=DAY_1, **run)
        runs["ledger_after_preview_1"] = ledger.exists()
        runs["out_after_preview_1"] = sorted(p.name for p in out.iterdir())
        runs["apercu_1"] = json.loads((out / "apercu" / "run-summary.json").read_text("utf-8"))
        apercu = out / "apercu"
        runs["apercu_files_1"] = {
            str(p.relative_to(apercu)): p.stat().st_size for p in apercu.rglob("*") if p.is_file()
        }
        runs["real_1"], runs["mailed_1"] = real_run(patch, as_of=DAY_1, **run)
        before = digest(ledger)
        runs["preview_2"] = preview_with_silent_smtp(patch, as_of=DAY_2, **run)
        runs["ledger_unchanged"] = before is not None and digest(ledger) == before
        runs["real_2"], runs["mailed_2"] = real_run(patch, as_of=DAY_2, **run)
    return runs


def test_preview_claims_nothing_and_leaves_the_ledger_absent_then_byte_identical(local):
    assert local["ledger_after_preview_1"] is False
    assert local["ledger_unchanged"] is True


def test_preview_contacts_no_mail_server(local):
    assert local["preview_1"]["smtp"] is False
    assert local["preview_2"]["smtp"] is False


def test_preview_renders_every_document_and_its_email_into_apercu(local):
    summary = local["preview_1"]["summary"]
    assert summary["documents"], "the example issues documents on its first day"
    for doc in summary["documents"]:
        assert sorted(Path(f).suffix for f in doc["files"]) == [".eml", ".html", ".pdf"]
        for name in doc["files"]:
            assert local["apercu_files_1"][name] > 0
    assert local["out_after_preview_1"] == ["apercu"]  # nothing outside the preview's folder


def test_preview_summary_is_marked_and_written_in_apercu(local):
    written = local["apercu_1"]
    assert written["preview"] is True and written["source_requests"] == 0
    assert written == local["preview_1"]["summary"]
    assert local["real_1"]["preview"] is False


@pytest.mark.parametrize("day", ["1", "2"])
def test_the_real_run_after_issues_exactly_what_the_preview_showed(local, day):
    preview, real = local[f"preview_{day}"]["summary"], local[f"real_{day}"]
    assert issued(real), "documents fall due that day"
    assert issued(preview) == issued(real)
    assert preview["documents"] == real["documents"]  # same fields, files, delivery (email)
    assert local[f"mailed_{day}"] == sorted(d["key"] for d in real["documents"])


def test_preview_run_is_tagged_apercu_and_its_report_says_nothing_was_sent(local):
    run_id = local["preview_1"]["run_id"]
    with get_client(sync_client=True) as client:
        tags = client.read_flow_run(run_id).tags
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[run_id]))
        )
    assert "apercu" in tags
    (report,) = [a for a in artifacts if a.key == "daily-report"]
    assert "Aperçu : rien n'a été envoyé." in str(report.data)


def test_airtable_preview_writes_nothing_then_the_real_run_issues_the_same(tmp_path, monkeypatch):
    with AirtableEmulator(TOKEN, BASE, penalty_seconds=PENALTY) as emulator:
        for name, value in environment(emulator).items():
            monkeypatch.setenv(name, value)
        build_example_base(emulator)
        records = {t: emulator.records(t) for t in ("Membres", "Versements", "Courriers")}
        out = tmp_path / "out"

        preview = daily(source="airtable", as_of=DAY_1, out=str(out), preview=True)
        by_method = {m: emulator.count(method=m) for m in WRITES}
        assert emulator.writes() == 0, by_method
        assert by_method == {"POST": 0, "PATCH": 0, "PUT": 0, "DELETE": 0}
        assert {t: emulator.records(t) for t in records} == records  # no status written back
        assert preview["preview"] is True
        assert preview["source_requests"] == emulator.count() > 0
        assert not (out / "ledger.sqlite").exists()

        emulator.reset_counts()
        real = daily(source="airtable", as_of=DAY_1, out=str(out))
        assert issued(real) and issued(preview) == issued(real)
        assert real["source_requests"] == emulator.count()


def test_notion_preview_writes_nothing_then_the_real_run_issues_the_same(tmp_path, monkeypatch):
    with NotionEmulator(NOTION_TOKEN, seed=11) as emulator:
        for name, value in {**notion_environment(emulator), **FAST}.items():
            monkeypatch.setenv(name, value)
        workspace = build_workspace(emulator, tmp_path)
        run = {"source": "notion", "as_of": DAY_1, "out": str(tmp_path / "out")}
        run["config"] = str(workspace.config)

        members = workspace.pages("members")
        preview = daily(preview=True, **run)  # type: ignore[arg-type]
        methods = {r.method for r in emulator.requests}
        operations = {r.operation for r in emulator.requests if r.method != "GET"}
        assert methods <= {"GET", "POST"} and operations == {"query"}, operations
        assert workspace.pages("members") == members  # no status written back
        assert preview["source_requests"] == len(emulator.requests) > 0
        assert workspace.ledger() == {key: [] for key in workspace.ledger()}

        real = daily(**run)  # type: ignore[arg-type]
        assert issued(real) and issued(preview) == issued(real)


def test_a_targeted_preview_claims_nothing_and_keeps_its_summary_in_apercu(tmp_path):
    out = tmp_path / "out"
    preview = targeted(kind="mission", record=MISSION, as_of=DAY_1, out=str(out), preview=True)
    assert [(d["kind"], d["amount"]) for d in preview["documents"]] == [("payout_mid", "750.00")]
    assert sorted(p.name for p in out.iterdir()) == ["apercu"]
    written = json.loads((out / "apercu" / "run-summary.json").read_text("utf-8"))
    assert written == preview and written["preview"] is True
