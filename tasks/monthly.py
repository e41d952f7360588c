"""The monthly report, as Prefect tasks around ``services.monthly``."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from charter.model import Alert, Cooperative
from charter.params import CharterParams
from integrations.ledger import LedgerStore
from services import monthly
from settings.config import CooperativeInfo
from tasks.quoting import quoted
from tasks.refusals import refusal_fails


@quoted
@task(name="compile-monthly-report", cache_policy=NO_CACHE)
@refusal_fails
def compile_monthly_report(
    store: LedgerStore, month: date, alerts: list[Alert], coop: Cooperative
) -> dict[str, Any]:
    """The figures of ``month`` (``services.monthly.compile_report``)."""
    return monthly.compile_report(store, month, alerts, coop)


@quoted
@task(name="publish-monthly-report", cache_policy=NO_CACHE)
def publish_monthly_report(
    report: dict[str, Any], info: CooperativeInfo, params: CharterParams, out: Path, day: date
) -> Path:
    """The PDF in ``OUT/reports/`` and a markdown artifact in the Prefect UI."""
    path = monthly.write_report(report, info, params, out, day)
    create_markdown_artifact(
        key="monthly-report",
        markdown=monthly.report_markdown(report, path),
        description=f"Rapport mensuel {report['period']}",
    )
    return path
