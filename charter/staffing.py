"""Every mission has a project manager and a lead developer (charter, "Missions")."""

from __future__ import annotations

from charter.findings import Findings, Situation
from charter.missions import is_signed
from charter.model import Alert


def missing_roles(situation: Situation) -> Findings:
    """Alert on each signed mission that lacks a project manager or a lead developer."""
    found = Findings()
    for mission in situation.coop.missions.values():
        if not is_signed(mission):
            continue
        missing = [
            role
            for role, member_id in (
                ("chef·fe de projet", mission.project_manager_id),
                ("lead developer", mission.lead_developer_id),
            )
            if member_id is None
        ]
        if missing:
            found.alerts.append(
                Alert(
                    "mission_missing_roles",
                    f"La mission « {mission.title} » n'a pas de {' ni de '.join(missing)} : "
                    "la charte en prévoit un·e pour chaque mission.",
                    mission_id=mission.id,
                    extra={"missing": missing},
                )
            )
    return found
