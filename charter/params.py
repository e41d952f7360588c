"""The charter's parameters (the charter, "Parameters and their defaults").

Every figure and every interpretation the rules depend on lives here, under the name used in
the ``[charter]`` section of ``cae.toml``. The defaults are the charter's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any

from charter.model import Involvement


def _default_bearer_rates() -> dict[Involvement, Decimal]:
    return {
        Involvement.BUSINESS_BROUGHT: Decimal("0.05"),
        Involvement.SPECIFICATION: Decimal("0.15"),
        Involvement.DEVELOPMENT: Decimal("0.30"),
    }


#: Names of the bearer rates in ``cae.toml`` (``bearer_rates = {apport = 0.05, ...}``).
BEARER_RATE_NAMES = {
    "apport": Involvement.BUSINESS_BROUGHT,
    "cahier_des_charges": Involvement.SPECIFICATION,
    "developpement": Involvement.DEVELOPMENT,
}


@dataclass(frozen=True)
class CharterParams:
    contribution_rate: Decimal = Decimal("0.10")  # art. 3
    bearer_rates: dict[Involvement, Decimal] = field(
        default_factory=_default_bearer_rates
    )  # art. 4
    mid_share: Decimal = Decimal("0.50")  # art. 4
    trial_months: int = 6  # art. 9
    resignation_notice_trial_days: int = 7  # art. 9
    resignation_notice_months: int = 1  # art. 9
    non_renewal_notice_trial_days: int = 7  # art. 10
    non_renewal_notice_months: int = 2  # art. 10
    absences_warning: int = 2  # art. 7
    absences_exclusion: int = 3  # art. 7
    associate_years: int = 3  # art. 2
    associate_reminder_months: tuple[int, ...] = (6, 1)  # art. 2
    max_godchildren: int = 5  # art. 16
    founders_may_sponsor: bool = True  # art. 16, interpretation
    trial_end_is_renewal_date: bool = True  # art. 10, interpretation
    # art. 4, interpretation: a negative delivery balance is stated in a notice as an amount to
    # regularise; false: no notice, the alert alone asks the staff to settle it.
    negative_delivery_is_regularisation: bool = True
    # art. 16, interpretation: the limit counts active sponsorships; false: every godchild
    # still a member, even once their piloted mission is delivered.
    godchild_limit_counts_active_only: bool = True
    # art. 13, interpretation: "month" checks the month's total, "week" each week on its own.
    volunteering_checked_per: str = "month"
    volunteering_hours_per_week: Decimal = Decimal("4")  # art. 13
    monthly_workshops: tuple[str, ...] = ("Atelier technique", "Veille")  # art. 11

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> CharterParams:
        """Build the parameters from the ``[charter]`` table of ``cae.toml``.

        >>> CharterParams.from_mapping({"contribution_rate": 0.12}).contribution_rate
        Decimal('0.12')

        Raises ``ValueError`` with a French message naming the parameter when a value is wrong.
        """
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ValueError(f"Paramètre inconnu dans [charter] : {', '.join(unknown)}")
        converted: dict[str, Any] = {}
        for name, raw in values.items():
            try:
                converted[name] = _convert(name, raw, cls.__dataclass_fields__[name].default)
            except (TypeError, ValueError, InvalidOperation) as exc:
                raise ValueError(f"Paramètre [charter] {name} invalide : {raw!r} ({exc})") from exc
        return cls(**converted)


def _decimal(raw: Any) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise TypeError("un nombre est attendu")
    # str() first: a TOML float 0.15 must become Decimal("0.15"), not its binary expansion.
    try:
        value = Decimal(str(raw))
    except InvalidOperation:
        raise ValueError("un nombre est attendu") from None
    if not value.is_finite() or value < 0:
        raise ValueError("un nombre positif est attendu")
    return value


def _convert(name: str, raw: Any, default: Any) -> Any:
    if name == "bearer_rates":
        if not isinstance(raw, dict):
            raise TypeError("une table {apport = …, cahier_des_charges = …, developpement = …}")
        rates = _default_bearer_rates()
        for rate_name, rate in raw.items():
            if rate_name not in BEARER_RATE_NAMES:
                raise ValueError(f"taux inconnu {rate_name!r}")
            rates[BEARER_RATE_NAMES[rate_name]] = _decimal(rate)
        return rates
    if name == "associate_reminder_months":
        if not isinstance(raw, list) or not all(isinstance(m, int) and m > 0 for m in raw):
            raise TypeError("une liste de nombres de mois est attendue")
        return tuple(sorted(set(raw), reverse=True))
    if name == "monthly_workshops":
        if not isinstance(raw, list) or not all(isinstance(k, str) for k in raw):
            raise TypeError("une liste de types d'ateliers est attendue")
        return tuple(raw)
    if name == "volunteering_checked_per":
        if raw not in ("month", "week"):
            raise ValueError('"month" ou "week" est attendu')
        return raw
    if isinstance(default, bool):
        if not isinstance(raw, bool):
            raise TypeError("true ou false est attendu")
        return raw
    if isinstance(default, int):
        if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
            raise TypeError("un nombre entier positif est attendu")
        return raw
    return _decimal(raw)
