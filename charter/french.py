"""French wording of figures in the staff-facing alert messages, as Babel's fr_FR writes them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALE = "fr_FR"


def euros(amount: Decimal) -> str:
    """``Decimal("1234.56")`` → ``"1 234,56 €"`` (with Babel's non-breaking spaces)."""
    return format_currency(amount, "EUR", locale=LOCALE)


@lru_cache(maxsize=4096)
def day(value: date) -> str:
    """``date(2026, 11, 26)`` → ``"26 novembre 2026"``."""
    return format_date(value, "long", locale=LOCALE)


@lru_cache(maxsize=1024)
def month(value: date) -> str:
    """``date(2026, 10, 1)`` → ``"octobre 2026"``."""
    return format_date(value, "MMMM y", locale=LOCALE)


def number(value: Decimal) -> str:
    """``Decimal("2.5")`` → ``"2,5"``."""
    if isinstance(value, Decimal):
        # Cached by the exact digits: Decimal("4") and Decimal("4.0") are equal but read
        # "4" and "4,0"; str() keeps them apart and Decimal(str()) gives the value back.
        return _decimal(str(value))
    return format_decimal(value, locale=LOCALE)


@lru_cache(maxsize=4096)
def _decimal(text: str) -> str:
    return format_decimal(Decimal(text), locale=LOCALE)
