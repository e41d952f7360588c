"""The daily job: load → evaluate → claim → render → deliver → report, as one flow run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from prefect import flow
from prefect.runtime import flow_run

from cae.config import Config
from cae.defaults import EXAMPLE_DIR, paris_today
from cae.summary import Namer, build_summary
from charter import french
from integrations.base import Source
from integrations.ledger import SqliteLedger
from integrations.outbox import Outbox
from integrations.workbook import LocalWorkbook
from tasks.charter import evaluate_charter
from tasks.documents import deliver_documents, render_documents
from tasks.ledger import claim_documents, read_ledger
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

    @classmethod
    def local(cls, data: str | None, as_of: date | None, out: str, config: str | None) -> RunSetup:
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
        )


def _run_name() -> str:
    return f"daily-{flow_run.parameters.get('as_of') or paris_today()}"


@flow(name="daily", flow_run_name=_run_name)
def daily(
    data: str | None = None,
    as_of: date | None = None,
    out: str = "outbox",
    config: str | None = None,
) -> dict[str, Any]:
    """Apply the whole charter as of ``as_of`` and issue what falls due, each document once."""
    run = RunSetup.local(data, as_of, out, config)
    settings = run.config
    records = load_records(run.source, settings.schema)
    ledger, waiting = read_ledger(run.ledger)
    evaluation = evaluate_charter(
        records.coop, ledger, run.as_of, settings.charter, settings.go_live
    )
    namer = Namer(records.coop, settings.schema)
    claimed = claim_documents(run.ledger, evaluation.documents, run.as_of, namer)
    rendered = render_documents(
        claimed, records.coop, settings.cooperative, settings.charter, run.as_of
    )
    issued = deliver_documents(
        run.ledger, run.outbox, rendered, records.coop, settings.cooperative, run.as_of
    )
    summary = build_summary(
        as_of=run.as_of,
        source=run.source.name,
        issued=issued,
        alerts=evaluation.alerts,
        errors=records.errors + [namer.error(e) for e in evaluation.errors],
        namer=namer,
    )
    publish_report(summary, run.out, waiting, _sections(records.missing_tables, evaluation, namer))
    return summary.as_dict()


def _sections(missing_tables: list[str], evaluation: Any, namer: Namer) -> dict[str, list[str]]:
    return {
        "Statuts à mettre à jour dans Membres": [
            f"{namer.member(c.member_id)} : {c.status.value} depuis le {french.day(c.since)}"
            for c in evaluation.status_changes
        ],
        "Règles non appliquées": [f"Table absente : {label}" for label in missing_tables]
        + [f"Non vérifié : {rule}" for rule in evaluation.skipped_rules],
    }
