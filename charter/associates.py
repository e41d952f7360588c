"""Becoming an associate within 3 years (art. 2 and the ESS law of July 2014)."""

from __future__ import annotations

from datetime import date

from charter import french
from charter.dates import add_months
from charter.findings import Findings, Situation
from charter.model import Alert, Document, Member
from charter.params import CharterParams


def associate_deadline(member: Member, params: CharterParams) -> date:
    """The membership date + 3 years."""
    assert member.joined_on is not None
    return add_months(member.joined_on, 12 * params.associate_years)


def associate_reminders(situation: Situation) -> Findings:
    """Reminders 6 months and 1 month before the deadline; an alert once it has passed.

    Only the latest stage reached is sent, and only before the deadline. Support staff are not
    concerned.
    """
    found = Findings()
    params = situation.params
    as_of = situation.as_of
    for member in situation.membership.active_members():
        if not member.is_entrepreneur or member.associate_on is not None:
            continue
        deadline = associate_deadline(member, params)
        if as_of > deadline:
            found.alerts.append(
                Alert(
                    "associate_deadline_passed",
                    f"{member.name} n'est pas sociétaire alors que le délai de 3 ans a expiré le "
                    f"{french.long_date(deadline)} (art. 2).",
                    member_id=member.id,
                    extra={"deadline": deadline},
                )
            )
            continue
        if as_of == deadline:
            continue
        reached = [
            (months, add_months(deadline, -months))
            for months in params.associate_reminder_months
            if add_months(deadline, -months) <= as_of
        ]
        if not reached:
            continue
        months, stage_on = max(reached, key=lambda stage: stage[1])
        key = f"associate_reminder:{member.id}:{months}"
        if situation.is_new(key):
            facts = {"deadline": deadline, "months_before": months, "joined_on": member.joined_on}
            found.documents.append(
                Document("associate_reminder", key, member.id, facts, trigger_on=stage_on)
            )
    return found
