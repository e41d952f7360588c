"""Art. 3: 10 % of the gross margin, per entrepreneur and closed month (§1)."""

from decimal import Decimal

import pytest

from charter.contribution import contribution, first_stated_month
from charter.params import CharterParams
from tests.support.builders import coop, d, invoice, keys, ledger_of, member, only, run

ALICE = member("Alice")


def test_statement_sums_the_months_invoices_and_takes_ten_percent():
    records = coop(
        [ALICE],
        invoices=[
            invoice("F1", "Alice", "2026-10-03", "1 000".replace(" ", ""), "200"),
            invoice("F2", "Alice", "2026-10-31", "2345.55", "0"),
            invoice("F3", "Alice", "2026-11-02", "999"),
        ],
    )
    statement = only(run(records, "2026-11-26"), "contribution_statement")
    assert statement.key == "contribution_statement:Alice:2026-10"
    assert statement.facts["period"] == "2026-10"
    assert statement.facts["gross_margin"] == Decimal("3145.55")
    assert statement.amount == Decimal("314.56")  # 314.555 rounds half up
    assert [i["number"] for i in statement.facts["invoices"]] == ["F1", "F2"]


def test_negative_month_is_stated_with_no_contribution():
    records = coop([ALICE], invoices=[invoice("F1", "Alice", "2026-10-03", "100", "400")])
    statement = only(run(records, "2026-11-26"), "contribution_statement")
    assert statement.facts["gross_margin"] == Decimal("-300")
    assert statement.amount == Decimal("0.00")


@pytest.mark.parametrize(("as_of", "stated"), [("2026-10-31", False), ("2026-11-01", True)])
def test_a_month_is_stated_once_it_has_ended(as_of, stated):
    records = coop([ALICE], invoices=[invoice("F1", "Alice", "2026-10-03", "100")])
    # The first run's "month before as_of" rule would skip October on 2026-10-31: fix the start.
    found = run(records, as_of, go_live="2026-10-01")
    assert keys(found) == (["contribution_statement:Alice:2026-10"] if stated else [])


def test_first_run_states_only_the_previous_month():
    records = coop(
        [ALICE],
        invoices=[
            invoice("F1", "Alice", "2026-09-15", "100"),
            invoice("F2", "Alice", "2026-10-15", "100"),
        ],
    )
    assert keys(run(records, "2026-11-26")) == ["contribution_statement:Alice:2026-10"]


def test_later_runs_start_from_the_month_before_the_first_issue():
    records = coop(
        [ALICE],
        invoices=[
            invoice("F2", "Alice", "2026-10-15", "100"),
            invoice("F3", "Alice", "2026-11-15", "100"),
        ],
    )
    first = run(records, "2026-11-26")
    later = run(records, "2026-12-28", ledger_of(*first.documents, issued_on="2026-11-26"))
    assert keys(later) == ["contribution_statement:Alice:2026-11"]


def test_start_month_is_the_go_live_month():
    assert first_stated_month(d("2026-11-26"), d("2026-06-15"), {}) == d("2026-06-01")
    assert first_stated_month(d("2026-11-26"), None, {}) == d("2026-10-01")


def test_late_invoice_for_a_stated_month_is_not_restated():
    records = coop([ALICE], invoices=[invoice("F1", "Alice", "2026-10-03", "100")])
    first = run(records, "2026-11-26")
    late = coop(
        [ALICE],
        invoices=[
            invoice("F1", "Alice", "2026-10-03", "100"),
            invoice("F9", "Alice", "2026-10-20", "50"),
        ],
    )
    assert keys(run(late, "2026-11-27", ledger_of(*first.documents, issued_on="2026-11-26"))) == []


def test_members_who_left_still_get_their_statement():
    gone = member("Bob", status=None, resignation_received_on=d("2026-10-01"))
    records = coop([gone], invoices=[invoice("F1", "Bob", "2026-10-03", "100")])
    assert keys(run(records, "2026-11-26")) == ["contribution_statement:Bob:2026-10"]


def test_unusable_invoice_is_left_out_and_the_others_counted():
    bad = invoice("F2", "Alice", "2026-10-04", "0")
    bad = type(bad)("F2", "F2", "Alice", d("2026-10-04"), None, invalid=frozenset({"amount"}))
    records = coop([ALICE], invoices=[invoice("F1", "Alice", "2026-10-03", "100"), bad])
    statement = only(run(records, "2026-11-26"), "contribution_statement")
    assert statement.facts["gross_margin"] == Decimal("100")


def test_no_invoices_table_skips_the_rule_and_says_so():
    found = run(coop([ALICE]), "2026-11-26")
    assert "relevés de contribution (art. 3)" in found.skipped_rules


@pytest.mark.parametrize(
    ("margin", "expected"),
    [("0", "0.00"), ("-0.01", "0.00"), ("0.05", "0.01"), ("0.04", "0.00"), ("10000", "1000.00")],
)
def test_contribution_rounding_and_floor(margin, expected):
    assert contribution(Decimal(margin), CharterParams()) == Decimal(expected)
