"""Resignation and its notice period (art. 9; CHARTER.md §4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from charter.dates import add_months
from charter.findings import Findings, Situation
from charter.model import Channel, Document, Member, RuleError
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


def resignation_letters(situation: Situation) -> Findings:
    """Acknowledge each resignation once, or ask for a registered letter (art. 9).

    Both letters go by registered post. A resignation dated after ``as_of`` is not received yet.
    """
    found = Findings()
    params = situation.params
    for member in situation.coop.members.values():
        terms = resignation_terms(member, params)
        if terms is None or terms.received_on > situation.as_of:
            continue
        received = terms.received_on.isoformat()
        if terms.effective_on is not None:
            key = f"resignation_ack:{member.id}:{received}"
            facts = {
                "received_on": terms.received_on,
                "channel": terms.channel,
                "in_trial": terms.in_trial,
                "effective_on": terms.effective_on,
                "notice_days": params.resignation_notice_trial_days if terms.in_trial else None,
                "notice_months": None if terms.in_trial else params.resignation_notice_months,
            }
            kind = "resignation_ack"
        elif terms.channel is None:
            if "resignation_channel" not in member.invalid:
                found.errors.append(
                    RuleError(
                        "members",
                        member.id,
                        "resignation_channel",
                        "Démission reçue après la période d'essai sans canal de réception : "
                        "impossible de savoir si le préavis a commencé (art. 9).",
                    )
                )
            continue
        else:
            key = f"resignation_invalid:{member.id}:{received}"
            facts = {"received_on": terms.received_on, "channel": terms.channel}
            kind = "resignation_invalid"
        if situation.is_new(key):
            found.documents.append(
                Document(kind, key, member.id, facts, trigger_on=terms.received_on, registered=True)
            )
    return found
