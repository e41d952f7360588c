"""The steps every charter run takes, as batched tasks: load → read ledger → evaluate →
claim → render → deliver → write back → report. ``daily`` runs them on the whole cooperative,
``targeted`` on one mission or member."""

from __future__ import annotations

from typing import Any

from prefect import get_client
from prefect.runtime import flow_run

from charter.scope import Scope, ScopeKind
from flows.locks import one_run_at_a_time
from services.report import report_sections, run_tags
from services.run_setup import RunSetup
from services.summary import Namer, build_summary
from tasks.charter import evaluate_charter
from tasks.documents import deliver_documents, render_documents
from tasks.ledger import claim_documents, read_ledger
from tasks.records import load_records, write_back_statuses
from tasks.report import publish_report


def apply_charter(run: RunSetup, scope: Scope | None = None) -> dict[str, Any]:
    """The whole pipeline, alone on its source: a second run on the same Airtable base or
    Notion ledger waits for this one to finish (``flows/locks.py``). A run that would email
    letters under a placeholder identity stops first, having claimed nothing."""
    run.refuse_placeholder_identity()
    with one_run_at_a_time(run.lock):
        return _apply_charter(run, scope)


def _apply_charter(run: RunSetup, scope: Scope | None) -> dict[str, Any]:
    config = run.config
    records = load_records(run.source, config.schema, scope)
    ledger_state = read_ledger(run.ledger_store, run.outbox)
    evaluation = evaluate_charter(
        records.coop, ledger_state.entries, run.as_of, config.charter, config.go_live, scope
    )
    namer = Namer(records.coop, config.schema)
    data_errors = records.errors
    if scope is not None:
        target = name_run(scope, namer)
        data_errors = [e for e in data_errors if e.record in (target, scope.record_id)]
    claimed = claim_documents(
        run.ledger_store, evaluation.documents, run.as_of, namer, ledger_state.reissue
    )
    rendered = render_documents(
        claimed, records.coop, config.cooperative, config.charter, run.as_of
    )
    resend = ledger_state.resend if scope is None else []
    delivered = deliver_documents(run, rendered, resend, records.coop, namer)
    summary = build_summary(
        as_of=run.as_of,
        source=run.source.name,
        issued=delivered.issued,
        alerts=evaluation.alerts,
        errors=data_errors + [namer.error(e) for e in evaluation.errors] + delivered.errors,
        namer=namer,
    )
    write_back_statuses(run.source, config.schema, evaluation.status_changes)
    sections = report_sections(records.missing_tables, evaluation, namer, ledger_state, summary)
    publish_report(
        summary, run.out, ledger_state.waiting, sections, "daily" if scope is None else "targeted"
    )
    tag_run(run_tags(summary, ledger_state))
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


def tag_run(tags: set[str]) -> None:
    """Add ``tags`` (``services.report.run_tags``) to this flow run, for the UI's filters."""
    run_id = flow_run.get_id()
    if run_id is None:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(run_id)
        client.update_flow_run(run_id, tags=sorted(set(current.tags) | tags))
