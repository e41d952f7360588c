"""Documents reach the members' inboxes through a real SMTP server, each exactly once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import date
from io import BytesIO

import pytest
from pypdf import PdfReader

from charter.model import LedgerStatus
from documents.mail import message_id
from flows.daily import daily
from integrations.journal import parse
from integrations.ledger import SqliteLedger
from settings.defaults import EXAMPLE_DIR, EXAMPLE_LATER_DIR
from tests.support.smtp_server import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

PASSWORD = "s3cr3t-Pa55w0rd-for-tests"
SENDER = "contact@example.org"
STAFF = "equipe-appui@example.org"


def pdf_text(data: bytes) -> str:
    text = " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch):
    """An SMTP server requiring a login; the run finds it through CAE_SMTP_* variables."""
    with SmtpServer(username="cae", password=PASSWORD) as smtp:
        for name, value in smtp.environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("CAE_SMTP_USERNAME", "cae")
        monkeypatch.setenv("CAE_SMTP_PASSWORD", PASSWORD)
        yield smtp


@pytest.fixture(scope="module")
def delivered(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The two documented runs of the example, delivered by email."""
    out = tmp_path_factory.mktemp("email") / "out"
    with pytest.MonkeyPatch.context() as patch, SmtpServer("cae", PASSWORD) as smtp:
        for name, value in smtp.environment().items():
            patch.setenv(name, value)
        patch.setenv("CAE_SMTP_USERNAME", "cae")
        patch.setenv("CAE_SMTP_PASSWORD", PASSWORD)
        first = daily(data=str(EXAMPLE_DIR), as_of=date(2026, 11, 26), out=str(out))
        second = daily(data=str(EXAMPLE_LATER_DIR), as_of=date(2026, 12, 28), out=str(out))
    return {"first": first, "second": second, "smtp": smtp.recorder, "out": out}


def test_every_document_is_emailed_once_after_a_login(delivered):
    smtp = delivered["smtp"]
    issued = delivered["first"]["documents"] + delivered["second"]["documents"]
    assert {d["delivery"] for d in issued} == {"email"}
    assert smtp.per_key() == {d["key"]: 1 for d in issued}
    assert smtp.logins and smtp.logins[0][0] == "cae"


def test_payout_notice_email_headers_parts_and_pdf(delivered):
    key = "payout_mid:Refonte intranet Mairie de Montreuil"
    received = delivered["smtp"].by_key(key)
    message = received.message
    assert message["Subject"] == (
        "Avis de versement : commission de porteur·euse de projet (mi-parcours)"
    )
    assert message["From"].addresses[0].addr_spec == SENDER
    assert [a.addr_spec for a in message["To"].addresses] == ["aicha.benali@example.org"]
    assert [a.addr_spec for a in message["Cc"].addresses] == [STAFF]
    assert sorted(received.recipients) == sorted(["aicha.benali@example.org", STAFF])
    assert message["Message-ID"] == message_id(key, SENDER)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Avis de versement" in text and "<html" in html.lower()
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    content = pdf_text(attachment.get_content())
    assert "750,00 €" in content and "Objet : Avis de versement" in content


def test_sponsor_is_copied_on_the_end_of_sponsorship(delivered):
    (end,) = [d for d in delivered["second"]["documents"] if d["kind"] == "sponsorship_end"]
    message = delivered["smtp"].by_key(end["key"]).message
    copies = [a.addr_spec for a in message["Cc"].addresses]
    assert copies == ["aicha.benali@example.org", STAFF]
    assert message["Subject"] == "Fin de votre parrainage"


def test_registered_letters_are_emailed_and_marked(delivered):
    registered = {d["key"] for d in delivered["first"]["documents"] if d["registered"]}
    assert registered == {
        "exclusion:Julien Perrot",
        "non_renewal:Fabrice Nguyen:2027-01-31",
        "resignation_ack:Lucie Bernard:2026-11-20",
        "resignation_ack:Marc Dupont:2026-11-10",
    }
    assert all(delivered["smtp"].per_key()[key] == 1 for key in registered)
    rows = SqliteLedger(delivered["out"] / "ledger.sqlite").rows()
    assert {r.key for r in rows if r.registered} >= registered


def test_the_password_appears_in_no_summary_document_or_artifact(delivered):
    for path in delivered["out"].rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts()
        logs = client.read_logs()
    assert not any(PASSWORD in str(a.data) for a in artifacts)
    assert not any(PASSWORD in log.message for log in logs)


def test_a_refused_message_is_retried_by_the_next_run_and_delivered_once(tmp_path, smtp_env):
    key = "payout_mid:Refonte intranet Mairie de Montreuil"
    smtp_env.recorder.refuse_once.add(key)
    out = tmp_path / "out"
    first = daily(data=str(EXAMPLE_DIR), as_of=date(2026, 11, 26), out=str(out))
    (refused,) = [d for d in first["documents"] if d["key"] == key]
    assert refused["delivery"] == "failed"
    ledger = SqliteLedger(out / "ledger.sqlite")
    assert ledger.row(key).status is LedgerStatus.FAILED
    stored_pdf = (out / refused["files"][0]).read_bytes()

    retry = daily(data=str(EXAMPLE_DIR), as_of=date(2026, 11, 27), out=str(out))
    assert [(d["key"], d["delivery"]) for d in retry["documents"]] == [(key, "email")]
    assert retry["documents"][0]["amount"] == "750.00"
    assert smtp_env.recorder.per_key()[key] == 1
    assert max(smtp_env.recorder.per_key().values()) == 1
    assert ledger.row(key).status is LedgerStatus.SENT
    (attachment,) = list(smtp_env.recorder.by_key(key).message.iter_attachments())
    assert attachment.get_content() == stored_pdf  # same key, same PDF

    assert daily(data=str(EXAMPLE_DIR), as_of=date(2026, 11, 28), out=str(out))["documents"] == []


def test_a_member_without_email_is_an_error_not_a_silent_skip(tmp_path, smtp_env):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLE_DIR, data)
    members = (data / "Membres.csv").read_text("utf-8-sig")
    assert "aicha.benali@example.org" in members
    (data / "Membres.csv").write_text(members.replace("aicha.benali@example.org", ""), "utf-8")
    summary = daily(data=str(data), as_of=date(2026, 11, 26), out=str(tmp_path / "out"))
    errors = [e for e in summary["errors"] if e["field"] == "Email"]
    assert {e["record"] for e in errors} == {"Aïcha Benali"}
    failed = {d["key"] for d in summary["documents"] if d["delivery"] == "failed"}
    assert failed and all(
        d["member"] == "Aïcha Benali" for d in summary["documents"] if d["key"] in failed
    )
    assert not failed & set(smtp_env.recorder.per_key())


def test_killed_mid_batch_the_rerun_leaves_a_person_only_the_letter_in_flight(tmp_path):
    """SIGKILL during the third SMTP transaction: the rerun carries the killed run's journal
    into the ledger (services.journal: the two letters sent, whose outcome the killed run had
    not yet written to the ledger), sends the 19 letters never attempted and leaves only the
    third for a person; nothing goes out twice."""
    from prefect.settings import PREFECT_API_URL

    out = tmp_path / "out"
    with SmtpServer() as smtp:
        smtp.recorder.hold_transaction = 3  # the third message: two went out before it
        env = {
            **os.environ,
            **smtp.environment(),
            "PREFECT_API_URL": str(PREFECT_API_URL.value()),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        }
        command = [
            sys.executable, "-m", "cae.cli", "run", "--data", str(EXAMPLE_DIR),
            "--as-of", "2026-11-26", "--out", str(out),
        ]  # fmt: skip
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        try:
            assert smtp.recorder.held.wait(timeout=120), "the run never reached its third email"
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == -signal.SIGKILL
        sent_before = smtp.recorder.per_key()
        assert len(sent_before) == 2

        ledger = SqliteLedger(out / "ledger.sqlite")
        pending = {r.key for r in ledger.rows(LedgerStatus.PENDING)}
        # A run writes its outcomes to the ledger 50 at a time (SqliteLedger's mark_batch):
        # killed before, it left every key pending, the two letters it sent included. Their
        # outcome is on disk in its journal, which the rerun carries into the ledger.
        assert len(pending) == 22 and set(sent_before) <= pending
        assert ledger.rows(LedgerStatus.SENT) == []
        (journal,) = (out / "journal").glob("*.jsonl")
        entries = parse(journal.read_text("utf-8").splitlines())
        assert entries.claimed == pending
        (in_flight,) = entries.attempting - set(entries.answers)
        assert {k for k, (status, _) in entries.answers.items() if status == "sent"} == set(
            sent_before
        )

        smtp.recorder.release.set()
        smtp.recorder.hold_transaction = None
        rerun = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=300, check=False
        )
    assert rerun.returncode == 0, rerun.stderr
    per_key = smtp.recorder.per_key()
    assert set(per_key) == (pending | set(sent_before)) - {in_flight}
    assert set(per_key.values()) == {1}  # nothing sent twice
    assert "1 document(s) en attente d'une personne" in rerun.stdout
    assert in_flight in rerun.stdout
    assert {r.key for r in ledger.rows(LedgerStatus.PENDING)} == {in_flight}
    assert {r.key for r in ledger.rows(LedgerStatus.SENT)} == set(per_key)
    assert not list((out / "journal").glob("*.jsonl"))  # both journals settled
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.client.schemas.sorting import ArtifactSort

    with get_client(sync_client=True) as client:
        (report,) = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["daily-report"])),
            sort=ArtifactSort.CREATED_DESC,
            limit=1,
        )
    top = report.data.split("## Documents émis")[0]
    assert "## À traiter par une personne (1)" in top
    assert in_flight in top
