"""The run's report as the staff read it in the Prefect UI: names typed by the staff shown as
text, never as markup; amounts in French; alerts in words; tables narrow enough for the pane."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import charter
from charter.kinds import ALERT_LABELS, DOCUMENT_LABELS
from charter.model import LedgerStatus
from integrations.ledger import LedgerRow
from services.report import CELL_WIDTH, documents_table, report_markdown
from services.summary import RunSummary

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "[Cliquez ici](javascript:alert(1))",
    "**Gras** _penché_ `code` # titre",
    "Dupont | Durand",
]
NBSP, NNBSP = "\u00a0", "\u202f"


def summary_naming(name: str) -> RunSummary:
    return RunSummary(
        as_of=date(2026, 11, 26),
        source="local",
        documents=[
            {
                "kind": "exclusion",
                "member": name,
                "mission": name,
                "amount": None,
                "delivery": "email",
                "key": f"exclusion:{name}:2026-11",
            }
        ],
        alerts=[{"kind": "sponsor_not_eligible", "message": f"{name} ne peut pas parrainer"}],
        errors=[{"table": "Membres", "record": name, "field": "Email", "message": "vide"}],
    )


def waiting_row(key: str) -> LedgerRow:
    return LedgerRow(
        key, "exclusion", LedgerStatus.PENDING, date(2026, 11, 25), member="Zoé Martin"
    )


def table_rows(report: str) -> list[str]:
    return [line for line in report.splitlines() if line.startswith("|")]


def cells(row: str) -> int:
    return row.replace("\\|", "").count("|") - 1


def payouts() -> RunSummary:
    def payout(member: str, mission: str, amount: str, delivery: str) -> dict[str, object]:
        return {
            "kind": "payout_mid",
            "member": member,
            "mission": mission,
            "amount": amount,
            "delivery": delivery,
            "key": f"payout_mid:{mission}",
        }

    return RunSummary(
        as_of=date(2026, 11, 26),
        source="airtable",
        documents=[
            payout("Élodie Vasseur", "Application de tournées Maraîcher Bio", "2400.00", "email"),
            payout("Hugo Lambert", "Site vitrine", "83.33", "failed"),
            {"kind": "renewal", "member": "Zoé Martin", "delivery": "outbox", "key": "r:Zoé"},
        ],
        alerts=[
            {"kind": "mission_missing_roles", "message": "La mission « Appli » n'a pas de lead"},
            {"kind": "new_kind_of_alert", "message": "Quelque chose"},
        ],
    )


def test_markup_in_names_is_inert():
    for name in HOSTILE:
        waiting = [waiting_row(f"exclusion:{name}")]
        report = report_markdown(summary_naming(name), waiting, {"Statuts": [f"{name} : Exclu·e"]})
        outside_code = re.sub(r"`[^`]*`", "", report)  # a code span shows its text as is
        assert "<img" not in outside_code
        assert not re.search(r"(?<!\\)\]\(javascript", outside_code)  # "\](" is no link
        assert "**Gras**" not in outside_code and " _penché_" not in outside_code
        # Each table row keeps its own number of cells: a "|" in a name is no column break.
        header, _, *rows = table_rows(report)
        assert all(cells(row) == cells(header) == 3 for row in rows), report


def test_the_escaped_name_still_reads_as_typed():
    name = "<b>Zoé</b> & Cie"
    report = report_markdown(summary_naming(name), [waiting_row(f"exclusion:{name}:2026-11")], {})
    assert "&lt;b&gt;Zoé&lt;/b&gt; &amp; Cie" in report
    assert "`exclusion:<b>Zoé</b> & Cie:2026-11`" in report  # the key as code, to copy as is


def test_amounts_read_in_french():
    report = report_markdown(payouts(), [], {})
    assert f"| 2{NNBSP}400,00{NBSP}€ |" in report
    assert f"| 83,33{NBSP}€ |" in report
    assert "2400.00" not in report and "83.33" not in report
    assert [row["montant"] for row in documents_table(payouts())] == [
        f"2{NNBSP}400,00{NBSP}€",
        f"83,33{NBSP}€",
        "",
    ]


def test_alerts_read_in_words_with_their_code_small():
    report = report_markdown(payouts(), [], {})
    words = ALERT_LABELS["mission_missing_roles"]
    assert f"- **{words}** `mission_missing_roles` : La mission « Appli » n'a pas de lead" in report
    # A kind with no French label yet still shows, by its code.
    assert "- **new\\_kind\\_of\\_alert** `new_kind_of_alert` : Quelque chose" in report


def test_every_alert_the_charter_raises_has_words():
    raised = set()
    for path in Path(charter.__file__).parent.glob("*.py"):
        raised |= set(re.findall(r'Alert\(\s*"([a-z_]+)"', path.read_text("utf-8")))
    assert len(raised) == 10 and raised <= set(ALERT_LABELS), raised - set(ALERT_LABELS)


def test_tables_are_narrow_enough_for_the_artifact_pane():
    """At 1,400 pixels the pane is about 780 pixels wide and does not wrap table cells: at
    most four columns, a document's kind as a heading, and long text cut into lines."""
    report = report_markdown(payouts(), [], {})
    rows = table_rows(report)
    assert rows and all(cells(row) <= 4 for row in rows)
    assert "| Membre | Mission | Montant | Envoi |" in rows  # payouts: all four
    assert "| Membre | Envoi |" in rows  # a renewal has no mission and no amount
    assert f"### {DOCUMENT_LABELS['payout_mid']} (2)" in report
    assert "| Élodie Vasseur | Application de tournées Maraîcher<br>Bio |" in report
    for row in rows:
        for cell in row.strip("|").split(" | "):
            assert all(len(line) <= CELL_WIDTH for line in cell.split("<br>")), cell
    assert all(len(row) <= 4 for row in documents_table(payouts()))
    assert documents_table(payouts())[1]["envoi"] == "en échec"


def test_delivery_reads_in_french():
    report = report_markdown(payouts(), [], {})
    assert "| courriel |" in report and "| en échec |" in report
    assert "| dossier de sortie |" in report


def test_the_staff_guide_names_each_alert_as_the_report_does():
    guide = (Path(charter.__file__).parent.parent / "docs" / "guide.md").read_text("utf-8")
    for kind, words in ALERT_LABELS.items():
        assert f"| **{words}** `{kind}` |" in guide, kind
