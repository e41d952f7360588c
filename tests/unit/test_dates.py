"""Date arithmetic of the deadlines: months added clamp to the month's end, Mondays, last month."""

from datetime import date

import pytest

from charter.dates import add_months, mondays, previous_month


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 8, 31), 6, date(2027, 2, 28)),
        (date(2026, 11, 15), 2, date(2027, 1, 15)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
    ],
)
def test_add_months_clamps_to_the_end_of_the_month(start, months, expected):
    assert add_months(start, months) == expected


def test_previous_month_of_january_is_december():
    assert previous_month(date(2027, 1, 5)) == date(2026, 12, 1)


def test_mondays_of_october_2026():
    assert list(mondays(date(2026, 10, 1))) == [
        date(2026, 10, 5),
        date(2026, 10, 12),
        date(2026, 10, 19),
        date(2026, 10, 26),
    ]


def test_mondays_of_a_month_starting_on_monday():
    assert len(list(mondays(date(2026, 6, 1)))) == 5
