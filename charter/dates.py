"""Calendar arithmetic the charter relies on.

"+ 1 month" is calendar arithmetic with end-of-month clamping: 31 January + 1 month is the last
day of February (the charter's preamble).
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier when negative), clamped to the month's end.

    >>> add_months(date(2026, 1, 31), 1)
    datetime.date(2026, 2, 28)
    >>> add_months(date(2026, 3, 31), -1)
    datetime.date(2026, 2, 28)
    """
    month_index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def last_of_month(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def previous_month(day: date) -> date:
    """The first day of the month before ``day``'s month."""
    return add_months(first_of_month(day), -1)


def month_key(day: date) -> str:
    """``YYYY-MM``, as used in ledger keys and in the run summary."""
    return f"{day.year:04d}-{day.month:02d}"


def mondays(month: date) -> Iterator[date]:
    """Every Monday of ``month``'s month."""
    day = first_of_month(month)
    day += timedelta(days=(7 - day.weekday()) % 7)
    while day.month == month.month:
        yield day
        day += timedelta(days=7)
