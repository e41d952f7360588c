"""The resignation letters: an acknowledgement, or a request for a registered letter (art. 9)."""

from __future__ import annotations

from charter.findings import Findings, Situation
from charter.model import Document, RuleError
from charter.notice import resignation_terms


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
