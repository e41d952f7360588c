"""Money is ``Decimal`` in euros, rounded to the cent with ROUND_HALF_UP where a rule says so."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def round_cent(amount: Decimal) -> Decimal:
    """Round to the cent, halves away from zero.

    >>> round_cent(Decimal("2.675"))
    Decimal('2.68')
    >>> round_cent(Decimal("-2.675"))
    Decimal('-2.68')
    """
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
