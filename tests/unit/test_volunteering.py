"""Art. 11 and 13: 4 h of volunteering a week, checked per month; monthly workshops (§9)."""

from decimal import Decimal

import pytest

from charter.model import Channel, VolunteeringWeek, Workshop
from tests.support.builders import alerts, coop, d, member, run

AS_OF = "2026-11-26"  # checks October 2026: Mondays 5, 12, 19 and 26
OCTOBER_MONDAYS = ("2026-10-05", "2026-10-12", "2026-10-19", "2026-10-26")


def weeks(who, *hours):
    return [
        VolunteeringWeek(who, d(on), Decimal(h))
        for on, h in zip(OCTOBER_MONDAYS, hours, strict=False)
    ]


@pytest.mark.parametrize(
    ("hours", "short"), [((4, 4, 4, 4), False), ((4, 4, 8), False), ((4, 4, 4, 3.5), True)]
)
def test_sixteen_hours_are_owed_for_october(hours, short):
    found = run(coop([member("Alice")], volunteering=weeks("Alice", *hours)), AS_OF)
    assert alerts(found, "volunteering_shortfall") == ([("Alice", None)] if short else [])


def test_weeks_with_no_row_count_as_zero():
    found = run(coop([member("Alice")], volunteering=[]), AS_OF)
    (alert,) = [a for a in found.alerts if a.kind == "volunteering_shortfall"]
    assert (alert.kind, alert.extra["owed"], alert.extra["declared"]) == (
        "volunteering_shortfall",
        Decimal("16"),
        Decimal("0"),
    )


def test_only_mondays_on_which_the_member_was_active_are_owed():
    newcomer = member("Bea", "2026-10-13")  # active on 19 and 26 October: 8 h
    found = run(coop([newcomer], volunteering=weeks("Bea", 0, 0, 4, 4)), AS_OF)
    assert alerts(found, "volunteering_shortfall") == []


def test_member_who_left_is_not_checked():
    gone = member(
        "Zoé",
        "2026-06-15",
        resignation_received_on=d("2026-10-01"),
        resignation_channel=Channel.EMAIL,
    )
    assert alerts(run(coop([gone], volunteering=[]), AS_OF), "volunteering_shortfall") == []


def test_no_volunteering_table_skips_the_check():
    found = run(coop([member("Alice")]), AS_OF)
    assert alerts(found, "volunteering_shortfall") == []
    assert "heures de bénévolat (art. 13)" in found.skipped_rules


def test_each_missing_workshop_kind_is_an_alert():
    held = [
        Workshop("W1", "Atelier Bubble", d("2026-10-08"), "Atelier technique"),
        Workshop("W2", "Veille", d("2026-11-03"), "Veille"),
    ]
    found = run(coop([], workshops=held), AS_OF)
    assert [a.extra["workshop"] for a in found.alerts if a.kind == "workshop_missing"] == ["Veille"]


def test_per_week_interpretation_flags_a_short_week_even_when_the_month_adds_up():
    from charter.params import CharterParams

    records = coop([member("Alice")], volunteering=weeks("Alice", 8, 0, 4, 4))
    assert alerts(run(records, AS_OF), "volunteering_shortfall") == []
    found = run(records, AS_OF, params=CharterParams(volunteering_checked_per="week"))
    (alert,) = [a for a in found.alerts if a.kind == "volunteering_shortfall"]
    assert alert.extra["short_weeks"] == [d("2026-10-12")]
