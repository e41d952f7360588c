"""French formatting of the figures a letter states, with Babel's fr_FR conventions.

These are the Jinja filters of the letters (``{{ f.amount|money }}``). Babel writes the
separators: a narrow no-break space between thousands, a no-break space before "€" and "%",
so an amount or a rate is never split across two lines.

>>> money(Decimal("1234.56"))
'1\\u202f234,56\\xa0€'
>>> percent(Decimal("0.15"))
'15\\xa0%'
>>> long_date(date(2026, 11, 26))
'26 novembre 2026'
>>> month(date(2026, 10, 1))
'octobre 2026'
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_percent

LOCALE = "fr_FR"

# French writes the first day of a month as an ordinal: "1er novembre 2026".
_FIRST_OF_MONTH_PATTERN = "d'er' MMMM y"


def money(amount: Decimal) -> str:
    """An amount in euros: ``money(Decimal("-150"))`` → ``"-150,00 €"``.

    A negative zero (``-Decimal("0")``) is written "0,00 €", not "-0,00 €".
    """
    return format_currency(abs(amount) if amount == 0 else amount, "EUR", locale=LOCALE)


def long_date(day: date) -> str:
    """A date in words: "26 novembre 2026", "1er novembre 2026"."""
    if day.day == 1:
        return format_date(day, _FIRST_OF_MONTH_PATTERN, locale=LOCALE)
    return format_date(day, "long", locale=LOCALE)


def month(day: date) -> str:
    """The month a date falls in: "octobre 2026"."""
    return format_skeleton("yMMMM", day, locale=LOCALE)


def percent(rate: Decimal) -> str:
    """A rate as a percentage, keeping its decimals: 0.15 → "15 %", 0.125 → "12,5 %"."""
    return format_percent(rate, locale=LOCALE, decimal_quantization=False)


def unbreakable(text: str) -> str:
    """Join the words with no-break spaces: "1er mars 2027" never splits across two lines."""
    return text.replace(" ", "\u00a0")


#: The Jinja filters of the letters. In a letter a date stays on one line; money and rates
#: already do (Babel's separators do not break).
FILTERS = {
    "money": money,
    "long_date": lambda day: unbreakable(long_date(day)),
    "month": lambda day: unbreakable(month(day)),
    "percent": percent,
}
