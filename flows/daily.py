"""The daily job: load → evaluate → claim → render → deliver → report, as one flow run."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from cae.defaults import paris_today
from cae.summary import Namer, RunSummary, build_summary
from charter import french
from flows.setup import RunSetup
from tasks.charter import evaluate_charter
from tasks.documents import deliver_documents, render_documents
from tasks.ledger import LedgerState, claim_documents, read_ledger
from tasks.records import load_records, write_back_statuses
from tasks.report import publish_report


def _run_name() -> str:
    return f"daily-{flow_run.parameters.get('as_of') or paris_today()}"


@flow(name="daily", flow_run_name=_run_name)
def daily(
    data: str | None = None,
    as_of: date | None = None,
    out: str = "outbox",
    config: str | None = None,
    smtp_block: str | None = None,
    source: str = "local",
) -> dict[str, Any]:
    """Apply the whole charter as of ``as_of`` and issue what falls due, each document once.

    ``smtp_block`` names a prefect-email ``EmailServerCredentials`` block; without it, SMTP
    settings come from the environment (``CAE_SMTP_HOST``…), and without those the documents
    are delivered to the out folder.
    """
    run = RunSetup.create(source, data, as_of, out, config, smtp_block)
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
    write_back_statuses(run.source, settings.schema, evaluation.status_changes)
    sections = _sections(records.missing_tables, evaluation, namer, ledger, summary)
    publish_report(summary, run.out, ledger.waiting, sections)
    return summary.as_dict()


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
