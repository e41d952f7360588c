"""Secrets (issue 8): a whole job runs with every secret set, then each secret's value is
looked for everywhere the job leaves text, and found nowhere.

The job is the daily flow on Airtable (the emulator), its token read from a Prefect Secret
block (``CAE_AIRTABLE_TOKEN_BLOCK``), sending through an SMTP server that requires a login;
the webhook secrets and a Notion token are in the environment too, as on a machine running
``cae serve``. Then runs that fail on a secret's account (a refused token, an Airtable that
answers 403, 422 and 500) must not leak it in their errors either.

Where: the Prefect logs of the flow runs and their task runs, the flow and task runs' states
and parameters, the artifacts, ``run-summary.json``, every file of the out folder (HTML, the
PDFs' text, the emails decoded, the ledger), what the job wrote into the base, the emails the
server received, the Python log records and the process's stdout and stderr.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime
from io import BytesIO
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pypdf import PdfReader

from emulators.airtable import AirtableEmulator
from flows.daily import daily
from integrations.airtable import AirtableClient, AirtableSettings
from integrations.airtable_init import init_base
from settings.config import Config
from settings.defaults import EXAMPLE_DIR
from tests.support.airtable_example import BASE, PENALTY
from tests.support.smtp_server import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

AIRTABLE_TOKEN = "patSECRETxAIRTABLE.0f9c2e7b41d8a6"
SMTP_PASSWORD = "smtp-Pa55-secret-8d1e4c"
GENERIC_SECRET = "webhook-generic-secret-3b7f90"
MAC_SECRET = base64.b64encode(b"airtable webhook mac secret 1234").decode()
NOTION_TOKEN = "ntn_notion-secret-token-5a2c81"
WRONG_TOKEN = "patWRONGxTOKEN.7e3a9d55c2"  # a token someone mistyped: a secret all the same
SECRETS = [
    AIRTABLE_TOKEN,
    SMTP_PASSWORD,
    GENERIC_SECRET,
    MAC_SECRET,
    NOTION_TOKEN,
    WRONG_TOKEN,
]
BLOCK = "cae-airtable-token-secrets-test"
#: The example's cae.toml: the run emails its letters, which needs the cooperative's identity.
IDENTITY = str(EXAMPLE_DIR / "cae.toml")


def leaks(text: str | bytes) -> list[str]:
    """The secrets found in ``text`` (whole, or the distinctive half of one)."""
    data = text if isinstance(text, str) else text.decode("utf-8", "replace")
    return [s for s in SECRETS if s in data or s[len(s) // 2 :] in data]


def flow_runs(ids: list[UUID]) -> dict[str, Any]:
    """Everything Prefect keeps of the given flow runs: the runs, their task runs, all their
    logs (paged), their artifacts."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
        tasks = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=ids)))
        logs = []
        while True:
            page = client.read_logs(
                log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids)),
                limit=200,
                offset=len(logs),
            )
            logs += page
            if len(page) < 200:
                break
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=ids))
        )
    return {"runs": runs, "tasks": tasks, "logs": logs, "artifacts": artifacts}


def runs_since(started: datetime) -> list[UUID]:
    """The flow runs that started after ``started``. Prefect's filter also counts a run not
    started yet that is scheduled after ``started``: a webhook's run another test's
    ``cae serve`` left unclaimed is scheduled an hour ahead (``cae/in_process.py``)."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterStartTime

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(start_time=FlowRunFilterStartTime(after_=started))
        )
    return [r.id for r in runs if r.start_time is not None]


def build_base(emulator: AirtableEmulator) -> None:
    """``cae airtable init --with-example`` with our token, the rate limit lifted for speed."""
    settings = AirtableSettings(
        base_id=BASE, token=AIRTABLE_TOKEN, endpoint_url=emulator.url, requests_per_second=1000
    )
    limit, emulator.rate_limit = emulator.rate_limit, None
    init_base(AirtableClient(settings), Config().schema, EXAMPLE_DIR)
    emulator.rate_limit = limit
    emulator.reset_counts()


def out_folder_texts(out: Path) -> Iterator[tuple[Path, str | bytes]]:
    """Every file of the out folder as stored, plus the PDFs' text and the emails decoded."""
    from email import message_from_bytes
    from email.policy import default

    for path in sorted(out.rglob("*")):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield path, data
        if path.suffix == ".pdf":
            yield path, " ".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)
        if path.suffix == ".eml":
            message = message_from_bytes(data, policy=default)
            for part in message.walk():
                if not part.is_multipart():
                    payload = part.get_payload(decode=True) or b""
                    yield path, payload


@pytest.fixture(scope="module")
def job(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The whole daily job on Airtable with every secret set; what it left behind."""
    from prefect.blocks.system import Secret

    out = tmp_path_factory.mktemp("secrets") / "out"
    Secret(value=AIRTABLE_TOKEN).save(BLOCK, overwrite=True)
    with (
        AirtableEmulator(AIRTABLE_TOKEN, BASE, penalty_seconds=PENALTY) as emulator,
        SmtpServer("cae", SMTP_PASSWORD) as smtp,
        pytest.MonkeyPatch.context() as patch,
    ):
        environment = {
            "CAE_AIRTABLE_TOKEN_BLOCK": BLOCK,
            "AIRTABLE_BASE_ID": BASE,
            "AIRTABLE_ENDPOINT_URL": emulator.url,
            "CAE_AIRTABLE_PENALTY_SECONDS": str(PENALTY),
            **smtp.environment(),
            "CAE_SMTP_USERNAME": "cae",
            "CAE_SMTP_PASSWORD": SMTP_PASSWORD,
            "CAE_WEBHOOK_SECRET": GENERIC_SECRET,
            "NOTION_TOKEN": NOTION_TOKEN,
        }
        for name, value in environment.items():
            patch.setenv(name, value)
        patch.delenv("AIRTABLE_TOKEN", raising=False)  # the block, and only it, holds it
        build_base(emulator)
        started = datetime.now(UTC)
        summary = daily(source="airtable", as_of=date(2026, 11, 26), out=str(out), config=IDENTITY)
        tables = [t["name"] for t in emulator.schema()["tables"]]
        left = {
            "summary": summary,
            "out": out,
            "base": {table: emulator.records(table) for table in tables},
            "refused": emulator.count(status=401),
            "smtp": smtp.recorder,
            "prefect": flow_runs(runs_since(started)),
        }
    # The environment is restored here: the tests below set their own.
    return left


def test_the_job_ran_with_its_secrets(job: dict[str, Any]) -> None:
    """Not a vacuous search: the token opened the base, the password the SMTP session."""
    documents = job["summary"]["documents"]
    assert len(documents) == 22 and {d["delivery"] for d in documents} == {"email"}
    assert job["smtp"].logins and job["refused"] == 0
    assert len(job["prefect"]["runs"]) == 1 and job["prefect"]["logs"]


def test_no_secret_in_prefect_logs_runs_or_artifacts(job: dict[str, Any]) -> None:
    prefect = job["prefect"]
    assert len(prefect["tasks"]) >= 7 and len(prefect["artifacts"]) >= 2
    for log in prefect["logs"]:
        assert not leaks(log.message), log.message
    for run in prefect["runs"] + prefect["tasks"]:
        assert not leaks(run.model_dump_json()), run.name
    for artifact in prefect["artifacts"]:
        assert not leaks(str(artifact.data)), artifact.key


def test_no_secret_in_the_summary_documents_emails_or_ledger(job: dict[str, Any]) -> None:
    texts = list(out_folder_texts(job["out"]))
    assert any(p.name == "run-summary.json" for p, _ in texts)
    assert sum(p.suffix == ".pdf" for p, _ in texts) == 2 * 22  # the bytes and the text
    for path, text in texts:
        assert not leaks(text), path


def test_no_secret_in_what_reached_the_base_and_the_inboxes(job: dict[str, Any]) -> None:
    for table, records in job["base"].items():
        assert not leaks(repr(records)), table
    received = job["smtp"].received
    assert len(received) == 22
    for mail in received:
        assert not leaks(mail.message.as_bytes()), mail.key


# ---- failures on a secret's account --------------------------------------------------------


@pytest.fixture
def watched(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]):
    """Python's log records and the process's stdout and stderr, checked for secrets after."""
    caplog.set_level(logging.DEBUG)
    yield
    captured = capfd.readouterr()
    assert not leaks(captured.out) and not leaks(captured.err)
    assert not leaks(caplog.text)
    for record in caplog.records:
        assert not leaks(record.getMessage())
        if record.exc_info and record.exc_info[1] is not None:
            assert not leaks(repr(record.exc_info[1]))


def _failed_run(environment: dict[str, str], emulator: AirtableEmulator, out: Path) -> Exception:
    started = datetime.now(UTC)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        with pytest.raises(Exception) as raised:
            daily(source="airtable", as_of=date(2026, 11, 26), out=str(out), config=IDENTITY)
    prefect = flow_runs(runs_since(started))
    assert prefect["runs"] and prefect["runs"][0].state_name == "Failed"
    for log in prefect["logs"]:
        assert not leaks(log.message), log.message
    for run in prefect["runs"] + prefect["tasks"]:
        assert not leaks(run.model_dump_json()), run.name
    return raised.value


def _environment(emulator: AirtableEmulator, token: str) -> dict[str, str]:
    return {
        "AIRTABLE_TOKEN": token,
        "AIRTABLE_BASE_ID": BASE,
        "AIRTABLE_ENDPOINT_URL": emulator.url,
        "CAE_AIRTABLE_PENALTY_SECONDS": str(PENALTY),
        "CAE_SMTP_PASSWORD": SMTP_PASSWORD,
        "CAE_WEBHOOK_SECRET": GENERIC_SECRET,
        "NOTION_TOKEN": NOTION_TOKEN,
    }


def test_a_refused_token_is_not_in_the_error(tmp_path: Path, watched: None) -> None:
    with AirtableEmulator(AIRTABLE_TOKEN, BASE, penalty_seconds=PENALTY) as emulator:
        build_base(emulator)
        error = _failed_run(_environment(emulator, WRONG_TOKEN), emulator, tmp_path / "out")
        assert emulator.count(status=401) >= 1
    assert str(error).endswith("(AUTHENTICATION_REQUIRED).")  # the sentence, no token
    assert not leaks(repr(error)) and not leaks(str(error.__cause__ or ""))


@pytest.mark.parametrize("status", [403, 422, 500])
def test_airtable_errors_do_not_carry_the_token(tmp_path: Path, watched: None, status: int) -> None:
    """A base that answers an error on a ledger table (403: no access, 422: a bad request,
    500 every time, past the retries): the run fails or reports it, never with the token."""
    with AirtableEmulator(AIRTABLE_TOKEN, BASE, penalty_seconds=PENALTY) as emulator:
        build_base(emulator)
        emulator.inject(status=status, count=20, when=lambda r: r.table == "Versements")
        environment = _environment(emulator, AIRTABLE_TOKEN)
        error = _failed_run(environment, emulator, tmp_path / "out")
        assert emulator.count(status=status) >= 1
    assert not leaks(repr(error)) and not leaks(str(error))
