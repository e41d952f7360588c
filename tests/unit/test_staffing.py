"""Every signed mission has a project manager and a lead developer (§3)."""

import pytest

from charter.model import Stage
from tests.support.builders import alerts, coop, mission, run


@pytest.mark.parametrize(
    "stage", [Stage.SIGNED, Stage.IN_DEVELOPMENT, Stage.MIDWAY, Stage.DELIVERED]
)
def test_signed_mission_without_lead_dev_is_flagged(stage):
    found = run(coop([], [mission("Appli", stage, lead_developer_id=None)]), "2026-11-26")
    assert alerts(found, "mission_missing_roles") == [(None, "Appli")]


@pytest.mark.parametrize("stage", [Stage.QUOTE, Stage.CANCELLED])
def test_quotes_and_cancelled_missions_need_no_team(stage):
    found = run(
        coop([], [mission("Appli", stage, project_manager_id=None, lead_developer_id=None)]),
        "2026-11-26",
    )
    assert found.alerts == []


def test_alert_names_both_missing_roles():
    found = run(
        coop([], [mission("Appli", project_manager_id=None, lead_developer_id=None)]), "2026-11-26"
    )
    assert found.alerts[0].extra["missing"] == ["chef·fe de projet", "lead developer"]
