"""Renewal and non-renewal of membership (art. 10).

Interpretation (``trial_end_is_renewal_date``): a membership's renewal dates are the end of the
trial period, then each anniversary of the membership date. The cooperative may refuse a renewal
only by notifying it, with a reason citing the charter, 1 week before the end of the trial or
2 months before an anniversary.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

from charter import french
from charter.dates import add_months
from charter.findings import Findings, Situation
from charter.model import Alert, Document, Member, RuleError
from charter.notice import resignation_terms, trial_end
from charter.params import CharterParams


@dataclass(frozen=True)
class RenewalDate:
    on: date
    trial_end: bool

    def notify_by(self, params: CharterParams) -> date:
        """The last day the cooperative may notify a non-renewal for this date."""
        if self.trial_end:
            return self.on - timedelta(days=params.non_renewal_notice_trial_days)
        return add_months(self.on, -params.non_renewal_notice_months)


def renewal_dates(member: Member, params: CharterParams) -> Iterator[RenewalDate]:
    """The end of the trial (when it is a renewal date), then every anniversary, in order."""
    assert member.joined_on is not None
    dates = []
    if params.trial_end_is_renewal_date:
        dates.append(RenewalDate(trial_end(member, params), trial_end=True))
    years = 1
    while True:
        anniversary = RenewalDate(add_months(member.joined_on, 12 * years), trial_end=False)
        while dates and dates[0].on <= anniversary.on:
            yield dates.pop(0)
        yield anniversary
        years += 1


def upcoming_renewal(
    member: Member, as_of: date, params: CharterParams
) -> tuple[RenewalDate, RenewalDate]:
    """The first renewal date on or after ``as_of``, and the one after it."""
    dates = (d for d in renewal_dates(member, params) if d.on >= as_of)
    return next(dates), next(dates)


def renewal_letters(situation: Situation) -> Findings:
    """Non-renewal letters while there is time, then renewal confirmations (art. 10)."""
    found = Findings()
    params = situation.params
    as_of = situation.as_of
    for member in situation.membership.active_members():
        upcoming, following = upcoming_renewal(member, as_of, params)
        terms = resignation_terms(member, params)
        if terms and terms.effective_on and terms.effective_on < upcoming.on:
            continue  # leaves before this renewal date: no letter about it
        notify_by = upcoming.notify_by(params)
        renewal_on = upcoming.on.isoformat()
        if member.non_renewal:
            non_renewal_key = f"non_renewal:{member.id}:{renewal_on}"
            if not member.non_renewal_reason:
                found.errors.append(
                    RuleError(
                        "members",
                        member.id,
                        "non_renewal_reason",
                        "Non-renouvellement coché sans motif : la coopérative ne peut refuser le "
                        "renouvellement qu'en citant la charte (art. 10).",
                    )
                )
            if as_of <= notify_by:
                if member.non_renewal_reason and situation.is_new(non_renewal_key):
                    found.documents.append(
                        _non_renewal(member, non_renewal_key, upcoming, notify_by, params)
                    )
            elif situation.is_new(non_renewal_key):
                found.alerts.append(
                    Alert(
                        "non_renewal_too_late",
                        f"Non-renouvellement de {member.name} : il fallait le notifier au plus "
                        f"tard le {french.long_date(notify_by)} pour l'échéance du "
                        f"{french.long_date(upcoming.on)}. Prochaine échéance possible : le "
                        f"{french.long_date(following.on)}.",
                        member_id=member.id,
                        extra={"renewal_on": upcoming.on, "next_renewal_on": following.on},
                    )
                )
        elif notify_by < as_of <= upcoming.on:
            key = f"renewal:{member.id}:{renewal_on}"
            if situation.is_new(key):
                facts = {"renewal_on": upcoming.on, "trial_end": upcoming.trial_end}
                found.documents.append(Document("renewal", key, member.id, facts))
    return found


def _non_renewal(
    member: Member, key: str, upcoming: RenewalDate, notify_by: date, params: CharterParams
) -> Document:
    facts = {
        "renewal_on": upcoming.on,
        "notify_by": notify_by,
        "reason": member.non_renewal_reason,
        "trial_end": upcoming.trial_end,
        "notice_days": params.non_renewal_notice_trial_days if upcoming.trial_end else None,
        "notice_months": None if upcoming.trial_end else params.non_renewal_notice_months,
        "last_day": upcoming.on - timedelta(days=1),
    }
    return Document("non_renewal", key, member.id, facts, registered=True)
