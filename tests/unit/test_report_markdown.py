"""The run's markdown report shows names typed by the staff as text, never as markup."""

from __future__ import annotations

import re
from datetime import date

from services.report import report_markdown
from services.summary import RunSummary

HOSTILE = [
    "<img src=x onerror=alert(1)>",
    "[Cliquez ici](javascript:alert(1))",
    "**Gras** _penché_ `code` # titre",
    "Dupont | Durand",
]


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


def test_markup_in_names_is_inert():
    for name in HOSTILE:
        report = report_markdown(summary_naming(name), [], {"Statuts": [f"{name} : Exclu·e"]})
        outside_code = re.sub(r"`[^`]*`", "", report)  # a code span shows its text as is
        assert "<img" not in outside_code
        assert not re.search(r"(?<!\\)\]\(javascript", outside_code)  # "\](" is no link
        assert "**Gras**" not in outside_code and " _penché_" not in outside_code
        # Each table row keeps its own number of cells: a "|" in a name is no column break.
        for line in report.splitlines():
            if line.startswith("| Exclusion"):
                assert line.replace("\\|", "").count("|") == 7, line


def test_the_escaped_name_still_reads_as_typed():
    report = report_markdown(summary_naming("<b>Zoé</b> & Cie"), [], {})
    assert "&lt;b&gt;Zoé&lt;/b&gt; &amp; Cie" in report
    assert "`exclusion:<b>Zoé</b> & Cie:2026-11`" in report  # the key as code, to copy as is
