"""Report: ``run-summary.json`` and the run's artifacts in the Prefect UI, in French."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from cae.summary import RunSummary
from charter import french
from integrations.ledger import LedgerRow
from tasks.quoting import quoted

KIND_LABELS = {
    "payout_mid": "Avis de versement (mi-parcours)",
    "payout_delivery": "Avis de versement (livraison)",
    "contribution_statement": "Relevé de contribution",
    "resignation_ack": "Accusé de réception de démission",
    "resignation_invalid": "Démission à renvoyer en recommandé",
    "non_renewal": "Non-renouvellement",
    "renewal": "Renouvellement",
    "plenary_warning": "Rappel d'absences aux plénières",
    "exclusion": "Exclusion",
    "associate_reminder": "Rappel sociétariat",
    "sponsorship_end": "Fin de parrainage",
}


#: Characters that would make a name typed by the staff into markup in the Prefect UI
#: (HTML, links, emphasis, code, table cells): each is shown as itself.
_MARKDOWN = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        **{c: f"\\{c}" for c in "\\`*_[]|#"},
        "\n": " ",
        "\r": " ",
    }
)


def _cell(value: Any) -> str:
    """Text from the records, inert in markdown: ``<script>`` stays text, ``[x](…)`` no link."""
    return "" if value is None else str(value).translate(_MARKDOWN)


def _code(value: Any) -> str:
    """A ledger key, as code (copied as is into ``cae ledger mark``)."""
    text = str(value).replace("`", "'").replace("|", "\\|")
    return f"`{text}`"


def report_markdown(
    summary: RunSummary, waiting: list[LedgerRow], sections: dict[str, list[str]]
) -> str:
    lines = [f"# Exécution du {french.day(summary.as_of)} (source : {summary.source})", ""]
    if waiting:
        lines += [
            f"## À traiter par une personne ({len(waiting)})",
            "",
            "Ces documents ont été réservés dans le registre sans que leur envoi soit confirmé. "
            "Ils ne seront pas renvoyés automatiquement : vérifiez s'ils sont partis, puis "
            "marquez-les `sent` ou `failed`.",
            "",
            "| Clé | Type | Membre | Statut | Réservé le |",
            "|---|---|---|---|---|",
        ]
        lines += [
            f"| {_code(r.key)} | {_cell(KIND_LABELS.get(r.kind, r.kind))} | {_cell(r.member)} "
            f"| {r.status.value} | {r.issued_on.isoformat()} |"
            for r in waiting
        ]
        lines.append("")
    lines += [f"## Documents émis ({len(summary.documents)})", ""]
    if summary.documents:
        lines += [
            "| Type | Membre | Mission | Montant | Envoi | Clé |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(KIND_LABELS[d['kind']])} | {_cell(d['member'])} | {_cell(d.get('mission'))} "
            f"| {_cell(d.get('amount'))} | {d['delivery']} | {_code(d['key'])} |"
            for d in summary.documents
        ]
    else:
        lines.append("Aucun nouveau document.")
    lines += ["", f"## Alertes ({len(summary.alerts)})", ""]
    lines += [f"- **{a['kind']}** : {_cell(a['message'])}" for a in summary.alerts] or ["Aucune."]
    lines += ["", f"## Erreurs de données ({len(summary.errors)})", ""]
    if summary.errors:
        lines += ["| Table | Fiche | Champ | Problème |", "|---|---|---|---|"]
        lines += [
            f"| {_cell(e['table'])} | {_cell(e['record'])} | {_cell(e['field'])} "
            f"| {_cell(e['message'])} |"
            for e in summary.errors
        ]
    else:
        lines.append("Aucune.")
    for heading, items in sections.items():
        if items:
            lines += ["", f"## {heading}", ""] + [f"- {_cell(item)}" for item in items]
    return "\n".join(lines) + "\n"


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
    ``OUT/run-summary.json`` (a targeted run does not overwrite it)."""
    path = None
    if run_kind == "daily":
        out.mkdir(parents=True, exist_ok=True)
        path = out / "run-summary.json"
        text = json.dumps(summary.as_dict(), ensure_ascii=False, indent=2) + "\n"
        path.write_text(text, encoding="utf-8")
    create_markdown_artifact(
        key=f"{run_kind}-report",
        markdown=report_markdown(summary, waiting, sections),
        description=f"Documents, alertes et erreurs du {summary.as_of.isoformat()}",
    )
    create_table_artifact(
        key=f"{run_kind}-documents",
        table=[
            {
                "type": KIND_LABELS[d["kind"]],
                "clé": d["key"],
                "membre": d["member"],
                "mission": d.get("mission") or "",
                "montant": d.get("amount") or "",
                "envoi": d["delivery"],
            }
            for d in summary.documents
        ],
        description=f"Documents émis le {summary.as_of.isoformat()}",
    )
    return path
