"""The monthly report: the month's contributions, the commissions paid and the alerts."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import State, flow
from prefect.runtime import flow_run

from charter.dates import add_months, first_of_month, month_key
from services.run_setup import RunSetup
from settings.defaults import paris_today
from tasks.charter import evaluate_charter
from tasks.ledger import read_ledger
from tasks.monthly import compile_monthly_report, publish_monthly_report
from tasks.records import load_records
from tasks.refusals import refusal_state


def report_month(month: str | None) -> date:
    """``YYYY-MM``, by default the month before today."""
    if month:
        return date.fromisoformat(f"{month}-01")
    return add_months(first_of_month(paris_today()), -1)


def _run_name() -> str:
    return f"monthly-{month_key(report_month(flow_run.parameters.get('month')))}"


@flow(name="monthly-report", flow_run_name=_run_name)
def monthly_report(
    month: str | None = None,
    source: str = "local",
    data: str | None = None,
    out: str = "outbox",
    config: str | None = None,
) -> dict[str, Any] | State:
    """Report on ``month`` (``YYYY-MM``, default: last month) as an artifact and a PDF; a
    refusal by Airtable or Notion ends it ``Failed`` with its French sentence."""
    period = report_month(month)
    day = add_months(period, 1)  # the report is written on the 1st of the next month
    run = RunSetup.create(source, data, day, out, config)
    try:
        return _report(run, period, day)
    except Exception as exc:
        state = refusal_state(exc)
        if state is None:
            raise
        return state


def _report(run: RunSetup, period: date, day: date) -> dict[str, Any]:
    records = load_records(run.source, run.config.schema)
    ledger_state = read_ledger(run.ledger_store, run.outbox)
    evaluation = evaluate_charter(
        records.coop, ledger_state.entries, day, run.config.charter, run.config.go_live
    )
    report = compile_monthly_report(run.ledger_store, period, evaluation.alerts, records.coop)
    publish_monthly_report(report, run.config.cooperative, run.config.charter, run.out, day)
    return report
