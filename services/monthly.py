"""The monthly report: its figures read from the ledger, its PDF, and its markdown.

Plain functions: the tasks in ``tasks/monthly.py`` wrap them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from charter import french
from charter.dates import month_key
from charter.model import Alert, Cooperative, LedgerStatus
from charter.money import ZERO
from charter.params import CharterParams
from documents.rendering import Renderer
from integrations.ledger import LedgerStore
from services.report import alert_line
from settings.config import CooperativeInfo

STAGES = {"payout_mid": "mi-parcours", "payout_delivery": "livraison"}
ISSUED = (LedgerStatus.SENT, LedgerStatus.PENDING)


def compile_report(
    store: LedgerStore, month: date, alerts: list[Alert], coop: Cooperative
) -> dict[str, Any]:
    """Statements of ``month``, payout notices issued during it, and today's alerts."""
    period = month_key(month)
    rows = [r for r in store.rows() if r.status in ISSUED]
    contributions = [
        {
            "member": r.member,
            "gross_margin": Decimal(str((r.details or {}).get("gross_margin", "0"))),
            "amount": r.amount or ZERO,
        }
        for r in rows
        if r.kind == "contribution_statement" and r.key.endswith(f":{period}")
    ]
    commissions = [
        {
            "mission": r.mission or (r.details or {}).get("mission"),
            "member": r.member,
            "stage": STAGES[r.kind],
            "amount": r.amount or ZERO,
        }
        for r in rows
        if r.kind in STAGES and month_key(r.issued_on) == period
    ]
    return {
        "period": period,
        "contributions": sorted(contributions, key=lambda c: str(c["member"])),
        "contributions_margin": sum((c["gross_margin"] for c in contributions), ZERO),
        "contributions_total": sum((c["amount"] for c in contributions), ZERO),
        "commissions": sorted(commissions, key=lambda c: (str(c["mission"]), c["stage"])),
        "commissions_total": sum((c["amount"] for c in commissions), ZERO),
        "alerts": [{"kind": a.kind, "message": a.message} for a in alerts],
    }


def write_report(
    report: dict[str, Any], info: CooperativeInfo, params: CharterParams, out: Path, day: date
) -> Path:
    """The report's PDF and HTML in ``OUT/reports/``; return the PDF's path."""
    month = date.fromisoformat(f"{report['period']}-01")
    html, pdf = Renderer(info, params).render_report(
        "monthly_report.html", f"monthly:{report['period']}", month=month, as_of=day, **report
    )
    path = out / "reports" / f"rapport-{report['period']}.pdf"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pdf)
    path.with_suffix(".html").write_text(html, encoding="utf-8")
    return path


def report_markdown(report: dict[str, Any], path: Path) -> str:
    """The report as markdown, for the Prefect UI, pointing to its PDF at ``path``."""
    month = date.fromisoformat(f"{report['period']}-01")
    lines = [
        f"# Rapport mensuel : {french.month(month)}",
        "",
        f"## Contributions ({french.money(report['contributions_total'])})",
        "",
        *[
            f"- {c['member']} : {french.money(c['amount'])} (marge brute "
            f"{french.money(c['gross_margin'])})"
            for c in report["contributions"]
        ],
        "",
        f"## Commissions versées ({french.money(report['commissions_total'])})",
        "",
        *[
            f"- {c['mission']} ({c['stage']}) : {french.money(c['amount'])} à {c['member']}"
            for c in report["commissions"]
        ],
        "",
        f"## Alertes ({len(report['alerts'])})",
        "",
        *[alert_line(a) for a in report["alerts"]],
        "",
        f"PDF : `{path}`",
    ]
    return "\n".join(lines) + "\n"
