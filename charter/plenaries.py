"""Monthly plenaries are mandatory (art. 7).

A warning at the second unjustified absence, exclusion at the third.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from charter.findings import Findings, Situation
from charter.model import Document, Member, Presence


def unjustified_absences(member: Member, situation: Situation) -> list[date]:
    """Dates of the plenaries, from joining to ``as_of``, the member missed without reason.

    Only recorded attendance counts: no row for a plenary is not an absence.
    """
    return _within_membership(member, _unjustified_by_member(situation).get(member.id), situation)


def _unjustified_by_member(situation: Situation) -> dict[str, set[date]]:
    """The dates of each member's unjustified absences, read from the attendance once."""
    plenaries = situation.coop.plenaries or {}
    found: dict[str, set[date]] = defaultdict(set)
    for row in situation.coop.attendance or []:
        if row.presence is not Presence.UNJUSTIFIED:
            continue
        plenary = plenaries.get(row.plenary_id)
        if plenary is None or plenary.date is None:
            continue
        found[row.member_id].add(plenary.date)
    return found


def _within_membership(member: Member, dates: set[date] | None, situation: Situation) -> list[date]:
    if not dates:
        return []
    assert member.joined_on is not None
    return sorted(day for day in dates if member.joined_on <= day <= situation.as_of)


def plenary_letters(situation: Situation) -> Findings:
    """The warning (once) and the exclusion (once); past the threshold, only the exclusion."""
    found = Findings()
    params = situation.params
    by_member = _unjustified_by_member(situation)
    for member in situation.membership.active_members():
        absences = _within_membership(member, by_member.get(member.id), situation)
        count = len(absences)
        extra: dict[str, object]
        if count >= params.absences_exclusion:
            kind, threshold = "exclusion", params.absences_exclusion
            extra = {"excluded_on": situation.as_of}
        elif count >= params.absences_warning:
            kind, threshold = "plenary_warning", params.absences_warning
            extra = {"exclusion_at": params.absences_exclusion}
        else:
            continue
        reached_on = absences[threshold - 1]
        facts = {"unjustified_absences": count, "absence_dates": absences, **extra}
        key = f"{kind}:{member.id}"
        if situation.is_new(key):
            found.documents.append(
                Document(
                    kind,
                    key,
                    member.id,
                    facts,
                    trigger_on=reached_on,
                    registered=kind == "exclusion",
                )
            )
    return found
