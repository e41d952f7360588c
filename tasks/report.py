"""Publish the run's report, as a Prefect task around ``services.report``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from integrations.ledger import LedgerRow
from services.report import documents_table, refusal_markdown, report_markdown, write_summary
from services.summary import RunSummary
from tasks.quoting import quoted


@quoted
@task(name="publish-report", cache_policy=NO_CACHE)
def publish_report(
    summary: RunSummary,
    out: Path,
    waiting: list[LedgerRow],
    sections: dict[str, list[str]],
    run_kind: str = "daily",
) -> Path | None:
    """Leave a markdown and a table artifact on the run; the daily run also writes
    ``run-summary.json`` in ``out`` (a targeted run does not overwrite it, except in its own
    preview folder)."""
    path = write_summary(summary, out) if run_kind == "daily" or summary.preview else None
    create_markdown_artifact(
        key=f"{run_kind}-report",
        markdown=report_markdown(summary, waiting, sections),
        description=("Aperçu (rien n'a été envoyé) : d" if summary.preview else "D")
        + f"ocuments, alertes et erreurs du {summary.as_of.isoformat()}",
    )
    create_table_artifact(
        key=f"{run_kind}-documents",
        table=documents_table(summary),
        description=f"Documents émis le {summary.as_of.isoformat()}",
    )
    return path


@task(name="publish-refusal", cache_policy=NO_CACHE)
def publish_refusal(
    as_of: date, source: str, sentence: str, claimed: tuple[str, ...], run_kind: str = "daily"
) -> None:
    """The run's report when Airtable or Notion refused it: the sentence, what it had claimed."""
    create_markdown_artifact(
        key=f"{run_kind}-report",
        markdown=refusal_markdown(as_of, source, sentence, claimed),
        description=f"Exécution du {as_of.isoformat()} interrompue : {sentence}",
    )
