"""Monthly plenaries are mandatory (art. 7; CHARTER.md §6).

A warning at the second unjustified absence, exclusion at the third.
"""

from __future__ import annotations

from datetime import date

from charter.findings import Findings, Situation
from charter.model import Document, Member, Presence


def unjustified_absences(member: Member, situation: Situation) -> list[date]:
    """Dates of the plenaries, from joining to ``as_of``, the member missed without reason.

    Only recorded attendance counts: no row for a plenary is not an absence.
    """
    plenaries = situation.coop.plenaries or {}
    dates = set()
    for row in situation.coop.attendance or []:
        if row.member_id != member.id or row.presence is not Presence.UNJUSTIFIED:
            continue
        plenary = plenaries.get(row.plenary_id)
        if plenary is None or plenary.date is None:
            continue
        assert member.joined_on is not None
        if member.joined_on <= plenary.date <= situation.as_of:
            dates.add(plenary.date)
    return sorted(dates)


def plenary_letters(situation: Situation) -> Findings:
    """The warning (once) and the exclusion (once); past the threshold, only the exclusion."""
    found = Findings()
    params = situation.params
    for member in situation.membership.active_members():
        absences = unjustified_absences(member, situation)
        count = len(absences)
        if count >= params.absences_exclusion:
            kind, reached_on = "exclusion", absences[params.absences_exclusion - 1]
            facts = {
                "unjustified_absences": count,
                "absence_dates": absences,
                "excluded_on": situation.as_of,
            }
            key = f"exclusion:{member.id}"
        elif count >= params.absences_warning:
            kind, reached_on = "plenary_warning", absences[params.absences_warning - 1]
            facts = {
                "unjustified_absences": count,
                "absence_dates": absences,
                "exclusion_at": params.absences_exclusion,
            }
            key = f"plenary_warning:{member.id}"
        else:
            continue
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
