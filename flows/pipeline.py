"""The steps every charter run takes, as batched tasks: load → read ledger → evaluate →
claim → render → deliver → write back → report. ``daily`` runs them on the whole cooperative,
``targeted`` on one mission or member. A run stopped by Airtable's monthly quota keeps what its
ledger could not record for the next run (``services.backlog``). A preview
(``services.preview``) takes the same steps on a ledger it only reads, sends nothing, writes
nothing back and resends nothing."""

from __future__ import annotations

from typing import Any

from prefect import State, get_client
from prefect.events import emit_event
from prefect.runtime import flow_run
from prefect.states import Failed

from charter.scope import Scope, ScopeKind
from flows.locks import one_run_at_a_time
from integrations.airtable import AirtableQuotaExceeded
from integrations.refusals import find_refusal
from services.backlog import save_backlog
from services.handover import open_handover
from services.preview import fresh_folder
from services.report import REVIEW_EVENT, REVIEW_TAGS, report_sections, run_tags
from services.run_setup import RunSetup
from services.summary import Namer, build_summary
from tasks.charter import evaluate_charter
from tasks.documents import deliver_documents, render_documents
from tasks.ledger import claim_documents, read_ledger
from tasks.records import load_records, write_back_statuses
from tasks.report import publish_refusal, publish_report


def apply_charter(run: RunSetup, scope: Scope | None = None) -> dict[str, Any] | State:
    """The whole pipeline, alone on its source: a second run on the same Airtable base or
    Notion ledger waits for this one to finish (``flows/locks.py``).

    When Airtable or Notion refuse it (``integrations.refusals``), the run's report says what
    to fix and the flow run ends ``Failed`` with that sentence as its message. A run that would
    email letters under a placeholder identity stops first, having claimed nothing."""
    run.refuse_placeholder_identity()
    claimed: list[str] = []
    try:
        with one_run_at_a_time(run.lock):
            try:
                return _apply_charter(run, scope, claimed)
            except AirtableQuotaExceeded:
                # No request gets through: keep what the ledger could not record for the next run.
                save_backlog(run.ledger_store, run.outbox)
                raise
    except Exception as exc:
        refusal = find_refusal(exc)
        if refusal is None:
            raise
        refusal.claimed = tuple(claimed)
        kind = "daily" if scope is None else "targeted"
        publish_refusal(run.as_of, run.source.name, str(refusal), refusal.claimed, kind)
        return Failed(message=str(refusal), data=refusal)


def _apply_charter(run: RunSetup, scope: Scope | None, claimed_keys: list[str]) -> dict[str, Any]:
    config = run.config
    if run.preview:
        fresh_folder(run.report_dir)
    # The records and the ledger are read side by side: on a remote source the two share the
    # rate limit, so the limit is never idle while one step's requests wait on the other's.
    reading = load_records.submit(run.source, config.schema, scope)
    try:
        ledger_state = read_ledger(run.ledger_store, run.outbox, run.preview)
    except Exception:
        reading.wait()
        reading.result()  # when both fail, the records' error is told, as when read first
        raise
    records = reading.result()
    evaluation = evaluate_charter(
        records.coop, ledger_state.entries, run.as_of, config.charter, config.go_live, scope
    )
    namer = Namer(records.coop, config.schema)
    data_errors = records.errors
    if scope is not None:
        target = name_run(scope, namer, "apercu-" if run.preview else "")
        data_errors = [e for e in data_errors if e.record in (target, scope.record_id)]
    resend = ledger_state.resend if scope is None and not run.preview else []
    with open_handover(evaluation.documents) as handover:
        # Claim, render and deliver side by side (``services.handover``): a letter goes as
        # soon as it is rendered and its key claimed, while the next keys are claimed.
        claiming = claim_documents.submit(
            run.ledger_store,
            evaluation.documents,
            run.as_of,
            namer,
            ledger_state.reissue,
            handover,
        )
        rendering = render_documents.submit(
            handover, records.coop, config.cooperative, config.charter, run.as_of
        )
        # However a step ends, even before it could start, delivery must not wait for it.
        claiming.add_done_callback(lambda _: handover.claims_over())
        rendering.add_done_callback(lambda _: handover.render_over())
        try:
            delivered = deliver_documents(run, handover, resend, records.coop, namer)
        except BaseException:
            handover.stop()
            raise
        finally:
            claiming.wait()
            rendering.wait()
            claimed_keys += handover.claimed_keys
        claiming.result()  # a claim refused: raised here, once what it claimed was delivered
        rendering.result()
    if not run.preview:
        write_back_statuses(run.source, config.schema, evaluation.status_changes)
    summary = build_summary(
        as_of=run.as_of,
        source=run.source.name,
        issued=delivered.issued,
        alerts=evaluation.alerts,
        errors=data_errors + [namer.error(e) for e in evaluation.errors] + delivered.errors,
        namer=namer,
        preview=run.preview,
        source_requests=run.source_requests(),
    )
    sections = report_sections(records.missing_tables, evaluation, namer, ledger_state, summary)
    reporting = publish_report.submit(
        summary,
        run.report_dir,
        ledger_state.waiting,
        sections,
        "daily" if scope is None else "targeted",
    )
    try:
        tag_run(run_tags(summary, ledger_state))  # meanwhile: one server call less to wait for
    finally:
        reporting.wait()
    reporting.result()
    return summary.as_dict()


def name_run(scope: Scope, namer: Namer, prefix: str = "") -> str:
    """Name a targeted run after the record as the staff know it (``mission-<title>``, after
    ``prefix``); return that name."""
    if scope.kind is ScopeKind.MISSION:
        name = namer.mission(scope.record_id) or scope.record_id
    else:
        name = namer.member(scope.record_id) or scope.record_id
    run_id = flow_run.get_id()
    if run_id is not None:
        with get_client(sync_client=True) as client:
            client.update_flow_run(run_id, name=f"{prefix}{scope.kind.value}-{name}")
    return name


def tag_run(tags: set[str]) -> None:
    """Add ``tags`` (``services.report.run_tags``) to this flow run, for the UI's filters; when
    one asks for a person, say so in a ``REVIEW_EVENT`` event (``cae/notifications.py``),
    except for a preview, which sent nothing.

    The event is needed because the server names a run's tags in its state events as they
    were when the run started (it caches them for minutes): its "Completed" event does not
    carry the tags added here."""
    run_id = flow_run.get_id()
    if run_id is None:
        return
    with get_client(sync_client=True) as client:
        current = client.read_flow_run(run_id)
        client.update_flow_run(run_id, tags=sorted(set(current.tags) | tags))
    review = sorted(tags & set(REVIEW_TAGS))
    if review and "apercu" not in tags:  # a preview sent nothing: nobody needs to act on it
        emit_event(
            REVIEW_EVENT,
            resource={
                "prefect.resource.id": f"prefect.flow-run.{run_id}",
                "prefect.resource.name": current.name,
            },
            related=[
                {"prefect.resource.id": f"prefect.tag.{t}", "prefect.resource.role": "tag"}
                for t in review
            ],
        )
