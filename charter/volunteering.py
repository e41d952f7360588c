"""Volunteering for the Atelier Digital and monthly workshops (art. 11, 13; CHARTER.md §9).

Interpretation: volunteering is checked per month, for the month before ``as_of``: 4 h for
each Monday of that month on which the member was active.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from charter import french
from charter.dates import first_of_month, mondays, previous_month
from charter.findings import Findings, Situation
from charter.model import Alert


def volunteering_shortfalls(situation: Situation) -> Findings:
    found = Findings()
    month = previous_month(situation.as_of)
    declared: dict[str, Decimal] = defaultdict(Decimal)
    for row in situation.coop.volunteering or []:
        if first_of_month(row.week) == month:
            declared[row.member_id] += row.hours
    for member in situation.membership.active_members():
        weeks = sum(
            1 for monday in mondays(month) if situation.membership.is_active_on(member, monday)
        )
        owed = situation.params.volunteering_hours_per_week * weeks
        done = declared[member.id]
        if done < owed:
            found.alerts.append(
                Alert(
                    "volunteering_shortfall",
                    f"Bénévolat de {member.name} en {french.month(month)} : "
                    f"{french.number(done)} h déclarées pour {french.number(owed)} h dues "
                    f"({french.number(situation.params.volunteering_hours_per_week)} h par "
                    "semaine, art. 13).",
                    member_id=member.id,
                    extra={"period": month.strftime("%Y-%m"), "owed": owed, "declared": done},
                )
            )
    return found


def missing_workshops(situation: Situation) -> Findings:
    """Each workshop kind owed every month must have taken place in the month before ``as_of``."""
    found = Findings()
    month = previous_month(situation.as_of)
    held = {w.kind for w in situation.coop.workshops or [] if first_of_month(w.date) == month}
    for kind in situation.params.monthly_workshops:
        if kind not in held:
            found.alerts.append(
                Alert(
                    "workshop_missing",
                    f"Aucune séance « {kind} » en {french.month(month)} : la coopérative s'engage "
                    "à en proposer au moins une par mois (art. 11).",
                    extra={"workshop": kind, "period": month.strftime("%Y-%m")},
                )
            )
    return found
