"""The run's report: the markdown the staff read in the Prefect UI, its table, its sections,
the run's tags, and ``run-summary.json``. Plain functions: ``tasks/report.py`` publishes them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from charter import french
from charter.model import Evaluation
from integrations.ledger import LedgerRow
from services.ledger import LedgerState
from services.preview import NOTHING_SENT
from services.summary import Namer, RunSummary

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
    run = "Aperçu" if summary.preview else "Exécution"
    lines = [f"# {run} du {french.long_date(summary.as_of)} (source : {summary.source})", ""]
    if summary.preview:
        lines += [NOTHING_SENT, ""]
    lines += [f"Requêtes envoyées à la source : {summary.source_requests}.", ""]
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


def documents_table(summary: RunSummary) -> list[dict[str, str]]:
    """One row per document issued, for the run's table artifact."""
    return [
        {
            "type": KIND_LABELS[d["kind"]],
            "clé": d["key"],
            "membre": d["member"],
            "mission": d.get("mission") or "",
            "montant": d.get("amount") or "",
            "envoi": d["delivery"],
        }
        for d in summary.documents
    ]


def write_summary(summary: RunSummary, out: Path) -> Path:
    """``OUT/run-summary.json``."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "run-summary.json"
    text = json.dumps(summary.as_dict(), ensure_ascii=False, indent=2) + "\n"
    path.write_text(text, encoding="utf-8")
    return path


def run_tags(summary: RunSummary, ledger: LedgerState) -> set[str]:
    """Tags the staff can filter on in the Prefect UI: the source, and what needs a person."""
    tags = {f"source:{summary.source}"}
    if summary.preview:
        tags.add("apercu")
    if summary.errors:
        tags.add("erreurs-de-donnees")
    if any(d["delivery"] == "failed" for d in summary.documents):
        tags.add("envoi-en-echec")
    if ledger.waiting or any(d["delivery"] == "pending" for d in summary.documents):
        tags.add("a-verifier")
    return tags


def report_sections(
    missing_tables: list[str],
    evaluation: Evaluation,
    namer: Namer,
    ledger: LedgerState,
    summary: RunSummary,
) -> dict[str, list[str]]:
    """The report's sections beyond documents, alerts and errors: what a person must do."""
    to_post = [f"{row.key} ({row.member})" for row in ledger.to_post] + [
        f"{d['key']} ({d['member']})"
        for d in summary.documents
        if d["registered"] and d["delivery"] in ("email", "outbox")
    ]
    return {
        "À envoyer en recommandé AR": to_post,
        "Statuts à mettre à jour dans Membres": [
            f"{namer.member(c.member_id)} : {c.status.value} depuis le {french.long_date(c.since)}"
            for c in evaluation.status_changes
        ],
        "Règles non appliquées": [f"Table absente : {label}" for label in missing_tables]
        + [f"Non vérifié : {rule}" for rule in evaluation.skipped_rules],
    }


def refusal_markdown(as_of: date, source: str, sentence: str, claimed: Sequence[str]) -> str:
    """The report of a run that Airtable or Notion refused: what to fix, and what it had done."""
    lines = [
        f"# Exécution du {french.long_date(as_of)} (source : {source}) : interrompue",
        "",
        "## À corriger",
        "",
        _cell(sentence),
        "",
    ]
    if claimed:
        lines += [
            f"Cette exécution avait déjà réservé {len(claimed)} document(s) dans le registre ; "
            "ceux qu'elle a envoyés y sont marqués. Relancez-la une fois la correction faite : "
            "elle finira le travail sans rien envoyer deux fois.",
            "",
            *[f"- {_code(key)}" for key in claimed],
        ]
    else:
        lines.append("Rien n'a été réservé ni envoyé : relancez l'exécution après la correction.")
    return "\n".join(lines) + "\n"
