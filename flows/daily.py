"""The daily job: the whole charter as of one day, each due document issued once."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import State, flow
from prefect.runtime import flow_run

from flows.pipeline import apply_charter
from services.run_setup import RunSetup
from settings.defaults import paris_today


def _run_name() -> str:
    day = flow_run.parameters.get("as_of") or paris_today()
    return f"apercu-{day}" if flow_run.parameters.get("preview") else f"daily-{day}"


@flow(name="daily", flow_run_name=_run_name)
def daily(
    data: str | None = None,
    as_of: date | None = None,
    out: str = "outbox",
    config: str | None = None,
    smtp_block: str | None = None,
    source: str = "local",
    preview: bool = False,
) -> dict[str, Any] | State:
    """Apply the whole charter as of ``as_of`` and issue what falls due, each document once.

    ``source`` is ``local`` (the CSV folder ``data``, by default the bundled example),
    ``airtable`` or ``notion``. ``smtp_block`` names a prefect-email ``EmailServerCredentials``
    block; without it, SMTP settings come from the environment (``CAE_SMTP_HOST``…), and
    without those the documents are delivered to the out folder. ``preview`` renders what
    would be issued into ``OUT/apercu/`` and changes nothing (``services.preview``).
    """
    run = RunSetup.create(source, data, as_of, out, config, smtp_block, preview=preview)
    try:
        return apply_charter(run)
    finally:  # however the run ended, its journal is free for the next run to settle
        run.ledger_store.journal.close()
