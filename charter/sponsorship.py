"""Sponsorship of newcomers (art. 15, 16; charter "Missions": parrainage).

A newcomer's first mission is piloted by their sponsor; the sponsorship ends when that piloted
mission is delivered. A sponsor must have completed their own piloted mission (founders, who had
none, may sponsor too) and has at most 5 active godchildren.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from charter.findings import Findings, Situation
from charter.missions import is_delivered
from charter.model import Alert, Document, Member, Mission, Stage


def delivered_piloted_missions(situation: Situation) -> dict[str, Mission]:
    """For each member a delivered mission was piloted for, the first one delivered."""
    first: dict[str, Mission] = {}
    for mission in situation.coop.missions.values():
        member_id = mission.piloted_for_id
        if member_id is None or not is_delivered(mission, situation.as_of):
            continue
        current = first.get(member_id)
        if current is None or _delivery_order(mission) < _delivery_order(current):
            first[member_id] = mission
    return first


def _delivery_order(mission: Mission) -> tuple[date, str]:
    return (mission.delivered_on or date.max, mission.title)


def may_sponsor(
    sponsor: Member, situation: Situation, delivered: dict[str, Mission] | None = None
) -> bool:
    """An active entrepreneur whose own piloted mission is delivered, or a founder."""
    if (
        not situation.membership.is_active_on(sponsor, situation.as_of)
        or not sponsor.is_entrepreneur
    ):
        return False
    if sponsor.founder and situation.params.founders_may_sponsor:
        return True
    if delivered is None:
        delivered = delivered_piloted_missions(situation)
    return sponsor.id in delivered


def sponsorship_checks(situation: Situation) -> Findings:
    found = Findings()
    members = situation.coop.members
    godchildren = [m for m in situation.membership.active_members() if m.sponsor_id in members]
    active: dict[str, list[Member]] = defaultdict(list)
    counted: dict[str, list[Member]] = defaultdict(list)
    delivered = delivered_piloted_missions(situation)
    for godchild in godchildren:
        assert godchild.sponsor_id is not None
        piloted = delivered.get(godchild.id)
        if piloted is None or not situation.params.godchild_limit_counts_active_only:
            counted[godchild.sponsor_id].append(godchild)
        if piloted is None:
            active[godchild.sponsor_id].append(godchild)
            continue
        key = f"sponsorship_end:{godchild.id}"
        if situation.is_new(key):
            facts = {"mission": piloted.title, "delivered_on": piloted.delivered_on}
            found.documents.append(
                Document(
                    "sponsorship_end",
                    key,
                    godchild.id,
                    facts,
                    trigger_on=piloted.delivered_on,
                    mission_id=piloted.id,
                    sponsor_id=godchild.sponsor_id,
                )
            )
    for sponsor_id, sponsored in active.items():
        sponsor = members[sponsor_id]
        names = sorted(g.name for g in sponsored)
        if not may_sponsor(sponsor, situation, delivered):
            found.alerts.append(
                Alert(
                    "sponsor_not_eligible",
                    f"{sponsor.name} parraine {', '.join(names)} sans remplir les conditions : "
                    "il faut être entrepreneur·e actif·ve et avoir terminé sa propre mission "
                    "pilotée (art. 16).",
                    member_id=sponsor.id,
                    extra={"godchildren": names},
                )
            )
    for sponsor_id, sponsored in counted.items():
        if len(sponsored) > situation.params.max_godchildren:
            sponsor = members[sponsor_id]
            names = sorted(g.name for g in sponsored)
            found.alerts.append(
                Alert(
                    "sponsor_over_capacity",
                    f"{sponsor.name} a {len(sponsored)} filleul·es ({', '.join(names)}) : la "
                    f"charte en permet {situation.params.max_godchildren} au plus (art. 16).",
                    member_id=sponsor.id,
                    extra={"godchildren": names, "count": len(sponsored)},
                )
            )
    found.add(_piloted_by_sponsor(situation, godchildren))
    return found


def _piloted_by_sponsor(situation: Situation, godchildren: list[Member]) -> Findings:
    """A newcomer's piloted mission must be led (as project manager) by their sponsor."""
    found = Findings()
    sponsor_of = {g.id: g.sponsor_id for g in godchildren}
    for mission in situation.coop.missions.values():
        sponsor_id = sponsor_of.get(mission.piloted_for_id or "")
        if sponsor_id is None or mission.stage is Stage.CANCELLED:
            continue
        if mission.project_manager_id != sponsor_id:
            godchild = situation.coop.members[mission.piloted_for_id or ""]
            sponsor = situation.coop.members[sponsor_id]
            found.alerts.append(
                Alert(
                    "piloted_mission_not_led_by_sponsor",
                    f"La mission « {mission.title} », pilotée pour {godchild.name}, n'a pas pour "
                    f"chef·fe de projet sa marraine ou son parrain, {sponsor.name} (art. 16).",
                    member_id=godchild.id,
                    mission_id=mission.id,
                    extra={"sponsor": sponsor.name},
                )
            )
    return found
