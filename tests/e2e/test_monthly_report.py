"""The monthly report: contributions, commissions paid and alerts, as an artifact and a PDF."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader

from flows.daily import daily
from flows.monthly import monthly_report
from settings.defaults import EXAMPLE_DIR, EXAMPLE_LATER_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]


def test_november_report_sums_what_the_ledger_holds(tmp_path):
    first = daily(data=str(EXAMPLE_DIR), as_of=date(2026, 11, 26), out=str(tmp_path))
    second = daily(data=str(EXAMPLE_LATER_DIR), as_of=date(2026, 12, 28), out=str(tmp_path))
    report = monthly_report(month="2026-11", data=str(EXAMPLE_LATER_DIR), out=str(tmp_path))

    statements = [d for d in second["documents"] if d["kind"] == "contribution_statement"]
    assert {c["member"] for c in report["contributions"]} == {d["member"] for d in statements}
    assert report["contributions_total"] == sum(Decimal(d["amount"]) for d in statements)
    payouts = [d for d in first["documents"] if d["kind"].startswith("payout")]
    assert len(report["commissions"]) == len(payouts)
    assert report["commissions_total"] == sum(Decimal(d["amount"]) for d in payouts)
    assert report["alerts"] and all(a["message"] for a in report["alerts"])

    pdf = tmp_path / "reports" / "rapport-2026-11.pdf"
    text = " ".join(page.extract_text() for page in PdfReader(pdf).pages)
    text = " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())
    assert "Rapport mensuel de la coopérative : novembre 2026" in text
    assert "Refonte intranet Mairie de Montreuil" in text
    total = f"{report['commissions_total']:,.2f}".replace(",", " ").replace(".", ",")
    assert f"{total} €" in text
