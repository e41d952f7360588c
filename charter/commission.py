"""The bearer commission and its payout notices (art. 4).

The bearer (porteur·euse) brought the mission to the cooperative. The rate follows their own
involvement: 5 % for bringing the business, 15 % with the specification, 30 % when they also
develop. Half is paid at mid-development, the rest at delivery.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from charter import french
from charter.findings import Findings, Situation
from charter.missions import has_reached_mid, is_delivered, is_signed
from charter.model import Alert, Document, LedgerStatus, Mission, RuleError, Stage
from charter.money import ZERO, round_cent
from charter.params import CharterParams


def commission_total(rate: Decimal, gross_margin: Decimal) -> Decimal:
    """The whole commission: rate × gross margin, rounded to the cent."""
    return round_cent(rate * gross_margin)


def mid_payout(rate: Decimal, gross_margin: Decimal, params: CharterParams) -> Decimal:
    """The mid-development half: 50 % × rate × gross margin, rounded to the cent.

    >>> mid_payout(Decimal("0.15"), Decimal("10000"), CharterParams())
    Decimal('750.00')
    """
    return round_cent(params.mid_share * rate * gross_margin)


def gross_margin(mission: Mission) -> Decimal:
    assert mission.revenue is not None
    return mission.revenue - mission.direct_costs


#: What a payout notice needs from its mission, and how the staff are told it is missing.
REQUIRED_FOR_PAYOUT = {
    "bearer_involvement": "Implication du porteur·euse non renseignée",
    "revenue": "Chiffre d'affaires HT non renseigné",
}


def _payout_terms(mission: Mission, situation: Situation, found: Findings) -> Decimal | None:
    """The mission's commission rate, or None (with a data error) when it cannot be paid."""
    involvement = mission.bearer_involvement
    if involvement is not None and mission.revenue is not None and not mission.invalid:
        return situation.params.bearer_rates[involvement]  # the usual case, at once
    missing = [name for name in REQUIRED_FOR_PAYOUT if getattr(mission, name) is None]
    for name in missing:
        if name not in mission.invalid:  # an unreadable value was reported when read
            message = (
                f"{REQUIRED_FOR_PAYOUT[name]} : la commission ne peut pas être calculée (art. 4)."
            )
            found.errors.append(RuleError("missions", mission.id, name, message))
    if missing:
        return None
    if "direct_costs" in mission.invalid:
        # Unreadable costs were reported when read; reading them as 0 would overpay.
        return None
    assert mission.bearer_involvement is not None
    return situation.params.bearer_rates[mission.bearer_involvement]


def payout_notices(situation: Situation) -> Findings:
    """Payout notices at mid-development and at delivery (art. 4)."""
    found = Findings()
    for mission in situation.coop.missions.values():
        if mission.stage is None or mission.stage is Stage.QUOTE:
            continue  # an unknown stage was reported when read; a quote is never paid
        mid_key = f"payout_mid:{mission.id}"
        delivery_key = f"payout_delivery:{mission.id}"
        if mission.stage is Stage.CANCELLED:
            if mid_key in situation.ledger or delivery_key in situation.ledger:
                found.alerts.append(
                    Alert(
                        "mission_cancelled_after_payout",
                        f"La mission « {mission.title} » est annulée alors qu'un avis de "
                        "versement a déjà été émis : à examiner, aucun montant n'est repris "
                        "automatiquement.",
                        member_id=mission.bearer_id,
                        mission_id=mission.id,
                    )
                )
            continue
        if mission.bearer_id is None:
            continue  # no bearer, no commission
        if is_delivered(mission, situation.as_of):
            if situation.is_new(delivery_key):
                found.add(_delivery_with_halves(mission, delivery_key, mid_key, situation))
        elif has_reached_mid(mission, situation.as_of) and situation.is_new(mid_key):
            found.add(_mid_notice(mission, mid_key, situation))
    return found


def _figures(mission: Mission, rate: Decimal, margin: Decimal, total: Decimal) -> dict[str, Any]:
    """What both notices state: the rate and its reason, and how the margin was computed."""
    return {
        "rate": rate,
        "involvement": mission.bearer_involvement,
        "revenue": mission.revenue,
        "direct_costs": mission.direct_costs,
        "gross_margin": margin,
        "total": total,
    }


def _mid_notice(mission: Mission, key: str, situation: Situation) -> Findings:
    found = Findings()
    rate = _payout_terms(mission, situation, found)
    if rate is None:
        return found
    margin = gross_margin(mission)
    if margin <= 0:
        return found  # nothing to pay now: the delivery notice settles the whole
    amount = mid_payout(rate, margin, situation.params)
    total = commission_total(rate, margin)
    facts = {
        **_figures(mission, rate, margin, total),
        "amount": amount,
        "remaining": total - amount,
        "mid_share": situation.params.mid_share,
        "mid_on": mission.mid_on,
    }
    assert mission.bearer_id is not None
    found.documents.append(
        Document("payout_mid", key, mission.bearer_id, facts, mission.mid_on, mission.id)
    )
    return found


def _delivery_with_halves(
    mission: Mission, key: str, mid_key: str, situation: Situation
) -> Findings:
    """The delivery notice, preceded by the historical first half it pays the balance of.

    A first half whose mid-development date is before the go-live date was settled before the
    project took over (§2, "Go-live and the two halves"), even when the mission is already
    delivered on the first run: its ``payout_mid`` is recorded as historical, computed from the
    data as it stands, and the delivery notice pays the balance. So what a bearer receives does
    not depend on the day of the first run. A half issued (or recorded) by an earlier run is in
    the ledger and counts as paid before.
    """
    found = Findings()
    historical_mid: Document | None = None
    if (
        situation.is_new(mid_key)
        and mission.mid_on is not None
        and mission.mid_on <= situation.as_of
        and is_signed(mission)
        and situation.is_historical(mission.mid_on)
    ):
        found.add(_mid_notice(mission, mid_key, situation))
        historical_mid = next((d for d in found.documents if d.key == mid_key), None)
        if historical_mid is None:
            # No first half at all (zero margin, or a data error already reported by
            # _mid_notice): the delivery notice settles the whole, and the error is not repeated.
            return found.add(_delivery_notice(mission, key, situation, ZERO, False, report=False))
    if historical_mid is not None:
        paid_before = historical_mid.amount or ZERO
        settled_before_go_live = True
    else:
        mid_entry = situation.ledger.get(mid_key)
        paid_before = (mid_entry.amount or ZERO) if mid_entry is not None else ZERO
        settled_before_go_live = (
            mid_entry is not None and mid_entry.status is LedgerStatus.HISTORICAL
        )
    return found.add(_delivery_notice(mission, key, situation, paid_before, settled_before_go_live))


def _delivery_notice(
    mission: Mission,
    key: str,
    situation: Situation,
    paid_before: Decimal,
    settled_before_go_live: bool,
    report: bool = True,
) -> Findings:
    found = Findings()
    rate = _payout_terms(mission, situation, found if report else Findings())
    if rate is None:
        return found
    margin = gross_margin(mission)
    total = commission_total(rate, margin)
    amount = total - paid_before
    facts = {
        **_figures(mission, rate, margin, total),
        "paid_before": paid_before,
        "mid_settled_before_go_live": settled_before_go_live,
        "amount": amount,
        "delivered_on": mission.delivered_on,
    }
    assert mission.bearer_id is not None
    if amount >= 0 or situation.params.negative_delivery_is_regularisation:
        found.documents.append(
            Document(
                "payout_delivery", key, mission.bearer_id, facts, mission.delivered_on, mission.id
            )
        )
    if amount < 0 and not situation.is_historical(mission.delivered_on):
        found.alerts.append(
            Alert(
                "payout_regularisation",
                f"Mission « {mission.title} » : la marge brute a baissé après le versement de "
                f"mi-parcours ; l'avis de livraison constate {french.money(-amount)} à "
                "régulariser.",
                member_id=mission.bearer_id,
                mission_id=mission.id,
                extra={"amount": amount},
            )
        )
    return found
