"""Art. 15-16: sponsors, their godchildren and the piloted mission (§8)."""

import pytest

from charter.model import MemberStatus, Role, Stage
from charter.params import CharterParams
from tests.support.builders import alerts, coop, d, keys, ledger_of, member, mission, only, run

AS_OF = "2026-11-26"
FOUNDER = member("Fanny", founder=True)


def godchildren(count, sponsor="Fanny"):
    return [member(f"Filleul {i}", "2026-07-01", sponsor_id=sponsor) for i in range(count)]


@pytest.mark.parametrize(("count", "over"), [(5, False), (6, True)])
def test_a_sponsor_may_have_five_active_godchildren(count, over):
    found = run(coop([FOUNDER, *godchildren(count)]), AS_OF)
    assert alerts(found, "sponsor_over_capacity") == ([("Fanny", None)] if over else [])


def test_godchildren_whose_piloted_mission_is_delivered_no_longer_count():
    children = godchildren(6)
    done = mission(
        "Premier site", Stage.DELIVERED, piloted_for_id="Filleul 0", project_manager_id="Fanny"
    )
    found = run(coop([FOUNDER, *children], [done]), AS_OF)
    assert alerts(found, "sponsor_over_capacity") == []


def test_godchildren_who_left_no_longer_count():
    children = godchildren(5) + [
        member("Parti", "2026-07-01", sponsor_id="Fanny", status=MemberStatus.LEFT)
    ]
    assert alerts(run(coop([FOUNDER, *children]), AS_OF), "sponsor_over_capacity") == []


def test_sponsor_must_have_completed_their_own_piloted_mission():
    sponsor = member("Sam")
    found = run(coop([sponsor, *godchildren(1, "Sam")]), AS_OF)
    assert alerts(found, "sponsor_not_eligible") == [("Sam", None)]
    own = mission("Mission de Sam", Stage.DELIVERED, piloted_for_id="Sam")
    assert (
        alerts(run(coop([sponsor, *godchildren(1, "Sam")], [own]), AS_OF), "sponsor_not_eligible")
        == []
    )


def test_founders_may_sponsor_unless_the_parameter_says_otherwise():
    records = coop([FOUNDER, *godchildren(1)])
    assert alerts(run(records, AS_OF), "sponsor_not_eligible") == []
    params = CharterParams(founders_may_sponsor=False)
    assert alerts(run(records, AS_OF, params=params), "sponsor_not_eligible") == [("Fanny", None)]


def test_support_staff_and_members_who_left_cannot_sponsor():
    staff = member("Paul", founder=True, role=Role.SUPPORT_STAFF)
    gone = member("Gil", founder=True, status=MemberStatus.LEFT)
    children = godchildren(1, "Paul") + [member("Filleule", "2026-07-01", sponsor_id="Gil")]
    found = run(coop([staff, gone, *children]), AS_OF)
    assert alerts(found, "sponsor_not_eligible") == [("Gil", None), ("Paul", None)]


def test_piloted_mission_must_be_led_by_the_sponsor():
    led = mission("Bien menée", piloted_for_id="Filleul 0", project_manager_id="Fanny")
    other = mission("Mal menée", piloted_for_id="Filleul 1", project_manager_id="Quelqu'un")
    found = run(coop([FOUNDER, *godchildren(2)], [led, other]), AS_OF)
    assert alerts(found, "piloted_mission_not_led_by_sponsor") == [("Filleul 1", "Mal menée")]


def test_delivery_of_the_piloted_mission_ends_the_sponsorship_once():
    piloted = mission(
        "Premier site",
        Stage.IN_DEVELOPMENT,
        piloted_for_id="Filleul 0",
        project_manager_id="Fanny",
        delivered_on=d("2026-11-20"),
    )
    records = coop([FOUNDER, *godchildren(1)], [piloted])
    assert keys(run(records, "2026-11-19")) == []
    end = only(run(records, "2026-11-20"), "sponsorship_end")
    assert end.key == "sponsorship_end:Filleul 0"
    assert end.member_id == "Filleul 0" and end.sponsor_id == "Fanny"
    assert end.facts == {"mission": "Premier site", "delivered_on": d("2026-11-20")}
    assert keys(run(records, "2026-11-21", ledger_of(end))) == []


def test_limit_may_count_every_godchild_instead_of_active_sponsorships():
    children = godchildren(6)
    done = mission(
        "Premier site", Stage.DELIVERED, piloted_for_id="Filleul 0", project_manager_id="Fanny"
    )
    params = CharterParams(godchild_limit_counts_active_only=False)
    found = run(coop([FOUNDER, *children], [done]), AS_OF, params=params)
    assert alerts(found, "sponsor_over_capacity") == [("Fanny", None)]
