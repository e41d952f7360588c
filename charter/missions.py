"""Where a mission stands on a given day."""

from __future__ import annotations

from datetime import date

from charter.model import SIGNED_STAGES, Mission, Stage


def is_signed(mission: Mission) -> bool:
    """Signée or later, and not cancelled: the stages at which stage dates count."""
    return mission.stage in SIGNED_STAGES


def is_delivered(mission: Mission, as_of: date) -> bool:
    """Stage "Livrée", or a signed mission whose delivery date is on or before ``as_of``."""
    if mission.stage is Stage.DELIVERED:
        return True
    return is_signed(mission) and mission.delivered_on is not None and mission.delivered_on <= as_of


def has_reached_mid(mission: Mission, as_of: date) -> bool:
    """Stage "Mi-parcours", or a signed mission whose mid-development date has come."""
    if mission.stage is Stage.MIDWAY:
        return True
    return is_signed(mission) and mission.mid_on is not None and mission.mid_on <= as_of
