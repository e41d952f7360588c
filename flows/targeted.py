"""A targeted run: the rules that concern one mission or one member, started by a webhook."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import State, flow
from prefect.runtime import flow_run

from charter.scope import Scope, ScopeKind
from flows.pipeline import apply_charter
from services.run_setup import RunSetup


def _run_name() -> str:
    return f"{flow_run.parameters.get('kind', 'record')}-{flow_run.parameters.get('record')}"


@flow(name="targeted", flow_run_name=_run_name)
def targeted(
    kind: str,
    record: str,
    source: str = "local",
    data: str | None = None,
    as_of: date | None = None,
    out: str = "outbox",
    config: str | None = None,
    smtp_block: str | None = None,
    preview: bool = False,
) -> dict[str, Any] | State:
    """Issue what falls due for one mission (payout notices, end of sponsorship, its alerts)
    or one member (their letters and alerts), by the record's id in the source. ``preview``
    renders them into ``OUT/apercu/`` and changes nothing (``services.preview``)."""
    scope = Scope(ScopeKind(kind), record)
    run = RunSetup.create(source, data, as_of, out, config, smtp_block, scope, preview)
    try:
        return apply_charter(run, scope)
    finally:  # however the run ended, its journal is free for the next run to settle
        run.ledger_store.journal.close()
