"""The run's report: the markdown the staff read in the Prefect UI, its table, its sections,
the run's tags, and ``run-summary.json``. Plain functions: ``tasks/report.py`` publishes them.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from charter import french
from charter.kinds import alert_label, document_label
from charter.model import Evaluation
from integrations.ledger import LedgerRow
from services.ledger import LedgerState
from services.preview import NOTHING_SENT
from services.summary import Namer, RunSummary

#: How each document went out, in the staff's words.
DELIVERY_LABELS = {
    "email": "courriel",
    "outbox": "dossier de sortie",
    "failed": "en échec",
    "pending": "à vérifier",
}

#: Text longer than this is cut into lines in a table cell: the artifact pane of the Prefect
#: UI does not wrap table cells, and a 1,400-pixel-wide window leaves it about 780 pixels.
CELL_WIDTH = 34


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


def _wrapped(value: Any) -> str:
    """Text for a table cell, inert, cut into lines of about ``CELL_WIDTH`` characters."""
    lines = textwrap.wrap(_cell(value), CELL_WIDTH, break_long_words=False, break_on_hyphens=False)
    return "<br>".join(lines)


def _amount(value: Any) -> str:
    """An amount of the summary (``"2400.00"``) as the staff read it: "2 400,00 €"."""
    return "" if value in (None, "") else french.money(Decimal(str(value)))


def _delivery(value: str) -> str:
    return DELIVERY_LABELS.get(value, value)


def alert_line(alert: dict[str, Any]) -> str:
    """An alert as a list item: its kind in words, its code small beside it, its message."""
    kind = alert["kind"]
    return f"- **{_cell(alert_label(kind))}** {_code(kind)} : {_cell(alert['message'])}"


def _documents(documents: list[dict[str, Any]]) -> list[str]:
    """The documents issued, one small table per kind: member, mission, amount, delivery.

    A column no document of the kind fills (no mission, no amount) is left out.
    """
    lines: list[str] = []
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for d in documents:
        by_kind.setdefault(d["kind"], []).append(d)
    for kind, group in by_kind.items():
        columns = [("Membre", "---", lambda d: _wrapped(d["member"]))]
        if any(d.get("mission") for d in group):
            columns.append(("Mission", "---", lambda d: _wrapped(d.get("mission"))))
        if any(d.get("amount") not in (None, "") for d in group):
            columns.append(("Montant", "--:", lambda d: _amount(d.get("amount"))))
        columns.append(("Envoi", "---", lambda d: _delivery(d["delivery"])))
        lines += [
            f"### {_cell(document_label(kind))} ({len(group)})",
            "",
            "| " + " | ".join(title for title, _, _ in columns) + " |",
            "|" + "|".join(align for _, align, _ in columns) + "|",
        ]
        lines += ["| " + " | ".join(cell(d) for _, _, cell in columns) + " |" for d in group]
        lines.append("")
    return lines


def report_markdown(
    summary: RunSummary, waiting: list[LedgerRow], sections: dict[str, list[str]]
) -> str:
    """The report the staff read in the Prefect UI. Tables have few, short columns (long
    text is cut into lines) and long text goes in lists, so that it fits the artifact pane."""
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
        ]
        lines += [
            f"- {_code(r.key)} : {_cell(document_label(r.kind))}, {_cell(r.member)}, "
            f"réservé le {french.long_date(r.issued_on)} ({r.status.value})"
            for r in waiting
        ]
        lines.append("")
    lines += [f"## Documents émis ({len(summary.documents)})", ""]
    lines += _documents(summary.documents) or ["Aucun nouveau document.", ""]
    lines += [f"## Alertes ({len(summary.alerts)})", ""]
    lines += [alert_line(a) for a in summary.alerts] or ["Aucune."]
    lines += ["", f"## Erreurs de données ({len(summary.errors)})", ""]
    lines += [
        f"- **{_cell(e['table'])} › {_cell(e['record'])} › {_cell(e['field'])}** : "
        f"{_cell(e['message'])}"
        for e in summary.errors
    ] or ["Aucune."]
    for heading, items in sections.items():
        if items:
            lines += ["", f"## {heading}", ""] + [f"- {_cell(item)}" for item in items]
    return "\n".join(lines) + "\n"


def documents_table(summary: RunSummary) -> list[dict[str, str]]:
    """One row per document issued, for the run's table artifact: four short columns (the
    mission and the key are in the markdown report and in ``run-summary.json``)."""
    return [
        {
            "document": document_label(d["kind"]),
            "membre": d["member"],
            "montant": _amount(d.get("amount")),
            "envoi": _delivery(d["delivery"]),
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


#: The tags of a run that needs a person, and the event that run sends when it ends (the
#: automation of ``cae/notifications.py`` tells the staff).
REVIEW_TAGS = ("a-verifier", "envoi-en-echec", "erreurs-de-donnees")
REVIEW_EVENT = "cae.flow-run.a-verifier"


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
    to_post = [
        f"{document_label(row.kind)}, {row.member} (clé {row.key})" for row in ledger.to_post
    ] + [
        f"{document_label(d['kind'])}, {d['member']} (clé {d['key']})"
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
