"""The daily job: load → evaluate → claim → render → deliver → report, as one flow run."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from cae.config import Config
from cae.defaults import EXAMPLE_DIR, paris_today
from cae.summary import Namer, RunSummary, build_summary
from charter import french
from integrations.base import Source
from integrations.ledger import SqliteLedger
from integrations.outbox import Outbox
from integrations.smtp import SmtpMailer, credentials_from_environment
from integrations.workbook import LocalWorkbook
from tasks.charter import evaluate_charter
from tasks.documents import Mailer, OutboxOnly, deliver_documents, render_documents
from tasks.ledger import LedgerState, claim_documents, read_ledger
from tasks.records import load_records
from tasks.report import publish_report


@dataclass(frozen=True)
class RunSetup:
    """Where a run reads, writes and keeps its ledger, resolved from its parameters."""

    source: Source
    config: Config
    as_of: date
    out: Path
    ledger: SqliteLedger
    outbox: Outbox
    mailer: Mailer

    @classmethod
    def local(
        cls,
        data: str | None,
        as_of: date | None,
        out: str,
        config: str | None,
        smtp_block: str | None = None,
    ) -> RunSetup:
        folder = Path(data) if data else EXAMPLE_DIR
        if not folder.is_dir():
            raise FileNotFoundError(f"Dossier de données introuvable : {folder}")
        out_dir = Path(out)
        return cls(
            source=LocalWorkbook(folder),
            config=Config.find(folder, Path(config) if config else None),
            as_of=as_of or paris_today(),
            out=out_dir,
            ledger=SqliteLedger(out_dir / "ledger.sqlite"),
            outbox=Outbox(out_dir),
            mailer=choose_mailer(smtp_block),
        )


def _run_name() -> str:
    return f"daily-{flow_run.parameters.get('as_of') or paris_today()}"


@flow(name="daily", flow_run_name=_run_name)
def daily(
    data: str | None = None,
    as_of: date | None = None,
    out: str = "outbox",
    config: str | None = None,
    smtp_block: str | None = None,
) -> dict[str, Any]:
    """Apply the whole charter as of ``as_of`` and issue what falls due, each document once.

    ``smtp_block`` names a prefect-email ``EmailServerCredentials`` block; without it, SMTP
    settings come from the environment (``CAE_SMTP_HOST``…), and without those the documents
    are delivered to the out folder.
    """
    run = RunSetup.local(data, as_of, out, config, smtp_block)
    settings = run.config
    records = load_records(run.source, settings.schema)
    ledger = read_ledger(run.ledger, run.outbox)
    evaluation = evaluate_charter(
        records.coop, ledger.entries, run.as_of, settings.charter, settings.go_live
    )
    namer = Namer(records.coop, settings.schema)
    claimed = claim_documents(run.ledger, evaluation.documents, run.as_of, namer, ledger.reissue)
    rendered = render_documents(
        claimed, records.coop, settings.cooperative, settings.charter, run.as_of
    )
    delivered = deliver_documents(
        run.ledger,
        run.outbox,
        run.mailer,
        rendered,
        ledger.resend,
        records.coop,
        namer,
        settings.cooperative,
        run.as_of,
    )
    summary = build_summary(
        as_of=run.as_of,
        source=run.source.name,
        issued=delivered.issued,
        alerts=evaluation.alerts,
        errors=records.errors + [namer.error(e) for e in evaluation.errors] + delivered.errors,
        namer=namer,
    )
    sections = _sections(records.missing_tables, evaluation, namer, ledger, summary)
    publish_report(summary, run.out, ledger.waiting, sections)
    return summary.as_dict()


def choose_mailer(smtp_block: str | None) -> Mailer:
    """The SMTP block named by the run or ``CAE_SMTP_BLOCK``, then the environment, else none."""
    block = smtp_block or os.environ.get("CAE_SMTP_BLOCK")
    if block:
        from prefect_email import EmailServerCredentials

        return SmtpMailer(EmailServerCredentials.load(block))
    credentials = credentials_from_environment()
    return SmtpMailer(credentials) if credentials is not None else OutboxOnly()


def _sections(
    missing_tables: list[str],
    evaluation: Any,
    namer: Namer,
    ledger: LedgerState,
    summary: RunSummary,
) -> dict[str, list[str]]:
    to_post = [f"{row.key} ({row.member})" for row in ledger.to_post] + [
        f"{d['key']} ({d['member']})"
        for d in summary.documents
        if d["registered"] and d["delivery"] in ("email", "outbox")
    ]
    return {
        "À envoyer en recommandé AR": to_post,
        "Statuts à mettre à jour dans Membres": [
            f"{namer.member(c.member_id)} : {c.status.value} depuis le {french.day(c.since)}"
            for c in evaluation.status_changes
        ],
        "Règles non appliquées": [f"Table absente : {label}" for label in missing_tables]
        + [f"Non vérifié : {rule}" for rule in evaluation.skipped_rules],
    }
