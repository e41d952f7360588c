"""French formatting of amounts, rates and dates, pinned to what Babel 2.18 writes for fr_FR.

"\u202f" is the narrow no-break space Babel puts between thousands, "\u00a0" the no-break
space before "€" and "%".
"""

from datetime import date
from decimal import Decimal

import pytest

from charter.french import long_date, money, month, percent


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("1234.56"), "1\u202f234,56\u00a0€"),
        (Decimal("10000"), "10\u202f000,00\u00a0€"),
        (Decimal("1234567.8"), "1\u202f234\u202f567,80\u00a0€"),
        (Decimal("750.00"), "750,00\u00a0€"),
        (Decimal("0"), "0,00\u00a0€"),
    ],
)
def test_money_groups_thousands_and_writes_two_decimals(amount, expected):
    assert money(amount) == expected


def test_money_writes_a_negative_amount_with_a_minus_sign():
    assert money(Decimal("-150")) == "-150,00\u00a0€"


def test_money_never_writes_a_negative_zero():
    assert money(-Decimal("0.00")) == "0,00\u00a0€"


@pytest.mark.parametrize(
    ("rate", "expected"),
    [
        (Decimal("0.15"), "15\u00a0%"),
        (Decimal("0.05"), "5\u00a0%"),
        (Decimal("0.50"), "50\u00a0%"),
        (Decimal("0.10"), "10\u00a0%"),
        (Decimal("0.30"), "30\u00a0%"),
    ],
)
def test_percent_writes_whole_rates_without_decimals(rate, expected):
    assert percent(rate) == expected


def test_percent_keeps_the_decimals_of_a_rate():
    assert percent(Decimal("0.125")) == "12,5\u00a0%"


def test_long_date_writes_the_month_in_words():
    assert long_date(date(2026, 11, 26)) == "26 novembre 2026"


def test_long_date_writes_the_first_of_the_month_as_an_ordinal():
    assert long_date(date(2026, 11, 1)) == "1er novembre 2026"


def test_long_date_does_not_pad_the_day():
    assert long_date(date(2027, 3, 2)) == "2 mars 2027"


def test_month_writes_month_and_year():
    assert month(date(2026, 10, 1)) == "octobre 2026"
