"""The terms of a resignation: its trial period, its notice and the member's last day (art. 9).

Pure dates, used by the resignation letters, by the renewal letters and by who is a member on
a given day; it imports no rule, so that membership and the rules never import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from charter.dates import add_months
from charter.model import Channel, Member
from charter.params import CharterParams


@dataclass(frozen=True)
class ResignationTerms:
    received_on: date
    channel: Channel | None
    in_trial: bool
    #: The member's last day, or None when the resignation starts no notice period.
    effective_on: date | None

    @property
    def starts_notice(self) -> bool:
        return self.effective_on is not None


def trial_end(member: Member, params: CharterParams) -> date:
    """The end of the trial period: the membership date + 6 months (art. 9)."""
    assert member.joined_on is not None
    return add_months(member.joined_on, params.trial_months)


def resignation_terms(member: Member, params: CharterParams) -> ResignationTerms | None:
    """How a member's resignation is treated, or None when there is none (or no joining date).

    In trial (received before the trial's end), 1 week of notice from receipt by any channel.
    After the trial, 1 month from receipt of a registered letter with acknowledgement; any
    other channel starts no notice period.
    """
    received_on = member.resignation_received_on
    if received_on is None or member.joined_on is None:
        return None
    channel = member.resignation_channel
    in_trial = received_on < trial_end(member, params)
    if in_trial:
        effective_on: date | None = received_on + timedelta(
            days=params.resignation_notice_trial_days
        )
    elif channel is Channel.REGISTERED_LETTER:
        effective_on = add_months(received_on, params.resignation_notice_months)
    else:
        effective_on = None
    return ResignationTerms(received_on, channel, in_trial, effective_on)
