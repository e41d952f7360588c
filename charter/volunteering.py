"""Volunteering for the Atelier Digital and monthly workshops (art. 11, 13).

Interpretation (``volunteering_checked_per = "month"``): volunteering is checked per month, for
the month before ``as_of``: 4 h for each Monday of that month on which the member was active.
With ``"week"``, each of those weeks must hold its 4 h on its own.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from charter import french
from charter.dates import first_of_month, mondays, previous_month
from charter.findings import Findings, Situation
from charter.model import Alert, Member


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def volunteering_shortfalls(situation: Situation) -> Findings:
    found = Findings()
    params = situation.params
    month = previous_month(situation.as_of)
    per_week = params.volunteering_checked_per == "week"
    by_week: dict[tuple[str, date], Decimal] = defaultdict(Decimal)
    declared: dict[str, Decimal] = defaultdict(Decimal)
    for row in situation.coop.volunteering or []:
        if per_week:
            by_week[(row.member_id, _monday(row.week))] += row.hours
        elif first_of_month(row.week) == month:
            declared[row.member_id] += row.hours
    month_mondays = list(mondays(month))
    for member in situation.membership.active_members():
        weeks = [m for m in month_mondays if situation.membership.is_active_on(member, m)]
        owed = params.volunteering_hours_per_week * len(weeks)
        if per_week:
            short = [
                m for m in weeks if by_week[(member.id, m)] < params.volunteering_hours_per_week
            ]
            if short:
                done = sum((by_week[(member.id, m)] for m in weeks), Decimal())
                found.alerts.append(_shortfall(member, month, owed, done, situation, short))
        elif declared[member.id] < owed:
            found.alerts.append(_shortfall(member, month, owed, declared[member.id], situation))
    return found


def _shortfall(
    member: Member,
    month: date,
    owed: Decimal,
    done: Decimal,
    situation: Situation,
    short_weeks: list[date] | None = None,
) -> Alert:
    hours = situation.params.volunteering_hours_per_week
    extra: dict[str, object] = {"period": month.strftime("%Y-%m"), "owed": owed, "declared": done}
    weeks = ""
    if short_weeks:
        extra["short_weeks"] = short_weeks
        weeks = " ; semaines incomplètes : " + ", ".join(french.long_date(w) for w in short_weeks)
    return Alert(
        "volunteering_shortfall",
        f"Bénévolat de {member.name} en {french.month(month)} : {french.number(done)} h "
        f"déclarées pour {french.number(owed)} h dues ({french.number(hours)} h par semaine, "
        f"art. 13){weeks}.",
        member_id=member.id,
        extra=extra,
    )


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
