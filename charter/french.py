"""French wording of amounts, rates, numbers and dates, for every text the project writes.

One module for the letters (their Jinja filters), the staff's alerts, the run's report and
the monthly report, so that they all say the same thing the same way. Babel writes fr_FR's
separators: a narrow no-break space between thousands, a no-break space before "€" and "%",
so an amount or a rate is never split across two lines.

>>> money(Decimal("1234.56"))
'1\\u202f234,56\\xa0€'
>>> percent(Decimal("0.15"))
'15\\xa0%'
>>> long_date(date(2026, 11, 26))
'26 novembre 2026'
>>> long_date(date(2026, 11, 1))
'1er novembre 2026'
>>> month(date(2026, 10, 1))
'octobre 2026'
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent

LOCALE = "fr_FR"
#: The locale, read once: Babel would read its name again at every call (a third of ``money``).
_FR = Locale.parse(LOCALE)

# French writes the first day of a month as an ordinal: "1er novembre 2026".
_FIRST_OF_MONTH_PATTERN = "d'er' MMMM y"


def money(amount: Decimal) -> str:
    """An amount in euros: ``money(Decimal("-150"))`` → ``"-150,00 €"``.

    A negative zero (``-Decimal("0")``) is written "0,00 €", never "-0,00 €".
    """
    return format_currency(abs(amount) if amount == 0 else amount, "EUR", locale=_FR)


@lru_cache(maxsize=4096)
def long_date(day: date) -> str:
    """A date in words: "26 novembre 2026", and "1er novembre 2026" for the first."""
    if day.day == 1:
        return format_date(day, _FIRST_OF_MONTH_PATTERN, locale=_FR)
    return format_date(day, "long", locale=_FR)


@lru_cache(maxsize=1024)
def month(day: date) -> str:
    """The month a date falls in: ``date(2026, 10, 1)`` → ``"octobre 2026"``."""
    return format_date(day, "MMMM y", locale=_FR)


def percent(rate: Decimal) -> str:
    """A rate as a percentage, keeping its decimals: 0.15 → "15 %", 0.125 → "12,5 %"."""
    return format_percent(rate, locale=_FR, decimal_quantization=False)


def number(value: Decimal) -> str:
    """``Decimal("2.5")`` → ``"2,5"``."""
    if isinstance(value, Decimal):
        # Cached by the exact digits: Decimal("4") and Decimal("4.0") are equal but read
        # "4" and "4,0"; str() keeps them apart and Decimal(str()) gives the value back.
        return _decimal(str(value))
    return format_decimal(value, locale=_FR)


@lru_cache(maxsize=4096)
def _decimal(text: str) -> str:
    return format_decimal(Decimal(text), locale=_FR)


def unbreakable(text: str) -> str:
    """Join the words with no-break spaces: "1er mars 2027" never splits across two lines."""
    return text.replace(" ", "\u00a0")
