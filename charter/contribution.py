"""Contribution to the cooperative: 10 % of the gross margin (art. 3).

No fixed fee: a month with no margin, or a negative one, gives no contribution.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from decimal import Decimal

from charter.dates import first_of_month, last_of_month, month_key, previous_month
from charter.findings import Findings, Situation
from charter.model import Document, Invoice, Ledger
from charter.money import ZERO, round_cent
from charter.params import CharterParams


def contribution(gross_margin: Decimal, params: CharterParams) -> Decimal:
    """10 % of a positive gross margin, rounded to the cent; 0.00 otherwise (art. 3).

    >>> contribution(Decimal("1234.55"), CharterParams())
    Decimal('123.46')
    >>> contribution(Decimal("-50"), CharterParams())
    Decimal('0.00')
    """
    if gross_margin <= 0:
        return ZERO
    return round_cent(gross_margin * params.contribution_rate)


def first_stated_month(as_of: date, go_live: date | None, ledger: Ledger) -> date:
    """The oldest month statements are issued for.

    The go-live month when there is a go-live date; otherwise the month before the earliest
    issue date in the ledger, or before ``as_of`` when the ledger is empty.
    """
    if go_live is not None:
        return first_of_month(go_live)
    issued = [entry.issued_on for entry in ledger.values()]
    return previous_month(min(issued) if issued else as_of)


def _usable(invoice: Invoice) -> bool:
    # Unreadable direct costs (reported when read) must not count as 0: the invoice is bad.
    return (
        None not in (invoice.entrepreneur_id, invoice.issued_on, invoice.amount)
        and "direct_costs" not in invoice.invalid
    )


def contribution_statements(situation: Situation) -> Findings:
    """One statement per entrepreneur and closed month with at least one invoice (art. 3).

    A closed month ended before ``as_of``. A month already stated is never restated, even when
    a late invoice arrives. Bad invoices were reported when read and are left out here.
    """
    found = Findings()
    invoices = situation.coop.invoices or []
    start = first_stated_month(situation.as_of, situation.go_live, situation.ledger)
    closed_before = first_of_month(situation.as_of)
    by_month: dict[tuple[str, date], list[Invoice]] = defaultdict(list)
    for invoice in invoices:
        # Only the months a statement may be issued for: from ``start`` to the last closed one.
        if invoice.issued_on is None or not start <= invoice.issued_on < closed_before:
            continue
        if not _usable(invoice) or invoice.entrepreneur_id not in situation.coop.members:
            continue
        assert invoice.issued_on is not None and invoice.entrepreneur_id is not None
        by_month[(invoice.entrepreneur_id, first_of_month(invoice.issued_on))].append(invoice)
    for (member_id, month), month_invoices in sorted(by_month.items()):
        period_end = last_of_month(month)
        key = f"contribution_statement:{member_id}:{month_key(month)}"
        if month < start or period_end >= situation.as_of or not situation.is_new(key):
            continue
        month_invoices.sort(key=lambda i: (i.issued_on, i.number))
        gross_margin = sum((i.margin for i in month_invoices), ZERO)
        facts = {
            "period": month_key(month),
            "month": month,
            "invoices": [
                {
                    "number": i.number,
                    "issued_on": i.issued_on,
                    "amount": i.amount,
                    "direct_costs": i.direct_costs,
                    "margin": i.margin,
                }
                for i in month_invoices
            ],
            "gross_margin": gross_margin,
            "amount": contribution(gross_margin, situation.params),
            "rate": situation.params.contribution_rate,
        }
        found.documents.append(
            Document("contribution_statement", key, member_id, facts, trigger_on=period_end)
        )
    return found
