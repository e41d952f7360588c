"""The steps every charter run takes, as batched tasks: load → read ledger → evaluate →
claim → render → deliver → write back → report. ``daily`` runs them on the whole cooperative,
``targeted`` on one mission or member."""

from __future__ import annotations

from typing import Any

from prefect import get_client
from prefect.runtime import flow_run

from cae.summary import Namer, RunSummary, build_summary
from charter import french
from charter.model import Evaluation
from charter.scope import Scope, ScopeKind
from flows.locks import one_run_at_a_time
from flows.setup import RunSetup
from tasks.charter import evaluate_charter
from tasks.documents import deliver_documents, render_documents
from tasks.ledger import LedgerState, claim_documents, read_ledger
from tasks.records import load_records, write_back_statuses
from tasks.report import publish_report


def apply_charter(run: RunSetup, scope: Scope | None = None) -> dict[str, Any]:
    """The whole pipeline, alone on its source: a second run on the same Airtable base or
    Notion ledger waits for this one to finish (``flows/locks.py``)."""
    with one_run_at_a_time(run.lock):
        return _apply_charter(run, scope)


def _apply_charter(run: RunSetup, scope: Scope | None) -> dict[str, Any]:
    settings = run.config
    records = load_records(run.source, settings.schema, scope)
    ledger = read_ledger(run.ledger, run.outbox)
    evaluation = evaluate_charter(
        records.coop, ledger.entries, run.as_of, settings.charter, settings.go_live, scope
    )
    namer = Namer(records.coop, settings.schema)
    data_errors = records.errors
    if scope is not None:
        target = name_run(scope, namer)
        data_errors = [e for e in data_errors if e.record in (target, scope.record_id)]
    claimed = claim_documents(run.ledger, evaluation.documents, run.as_of, namer, ledger.reissue)
    rendered = render_documents(
        claimed, records.coop, settings.cooperative, settings.charter, run.as_of
    )
    delivered = deliver_documents(
        run.ledger,
        run.outbox,
        run.mailer,
        rendered,
        ledger.resend if scope is None else [],
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
        errors=data_errors + [namer.error(e) for e in evaluation.errors] + delivered.errors,
        namer=namer,
    )
    write_back_statuses(run.source, settings.schema, evaluation.status_changes)
    sections = _sections(records.missing_tables, evaluation, namer, ledger, summary)
    publish_report(
        summary, run.out, ledger.waiting, sections, "daily" if scope is None else "targeted"
    )
    tag_run(summary, ledger)
    return summary.as_dict()


def name_run(scope: Scope, namer: Namer) -> str:
    """Name a targeted run after the record as the staff know it (``mission-<title>``);
    return that name."""
    if scope.kind is ScopeKind.MISSION:
        name = namer.mission(scope.record_id) or scope.record_id
    else:
        name = namer.member(scope.record_id) or scope.record_id
    run_id = flow_run.get_id()
    if run_id is not None:
        with get_client(sync_client=True) as client:
            client.update_flow_run(run_id, name=f"{scope.kind.value}-{name}")
    return name


def tag_run(summary: RunSummary, ledger: LedgerState) -> None:
    """Tags the staff can filter on in the Prefect UI: the source, and what needs a person."""
    tags = {f"source:{summary.source}"}
    if summary.errors:
        tags.add("erreurs-de-donnees")
    if any(d["delivery"] == "failed" for d in summary.documents):
        tags.add("envoi-en-echec")
    if ledger.waiting or any(d["delivery"] == "pending" for d in summary.documents):
        tags.add("a-verifier")
    run_id = flow_run.get_id()
    if run_id is None:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(run_id)
        client.update_flow_run(run_id, tags=sorted(set(current.tags) | tags))


def _sections(
    missing_tables: list[str],
    evaluation: Evaluation,
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
