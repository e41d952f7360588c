"""Art. 7: warning at 2 unjustified plenary absences, exclusion at 3 (§6)."""

import pytest

from charter.membership import Membership
from charter.model import MemberStatus, Presence
from charter.params import CharterParams
from tests.support.builders import coop, d, keys, ledger_of, member, only, run

U, J, P = Presence.UNJUSTIFIED, Presence.EXCUSED, Presence.PRESENT
ALICE = member("Alice", "2026-03-01")


def attendance(*rows):
    return coop([ALICE], plenaries=[("Alice", on, presence) for on, presence in rows])


def test_second_unjustified_absence_brings_a_warning():
    found = run(attendance(("2026-09-10", U), ("2026-10-10", J), ("2026-11-10", U)), "2026-11-26")
    warning = only(found, "plenary_warning")
    assert warning.key == "plenary_warning:Alice"
    assert warning.facts["unjustified_absences"] == 2
    assert warning.facts["absence_dates"] == [d("2026-09-10"), d("2026-11-10")]
    assert warning.trigger_on == d("2026-11-10")


@pytest.mark.parametrize(
    ("as_of", "expected"), [("2026-11-09", []), ("2026-11-10", ["plenary_warning:Alice"])]
)
def test_a_plenary_counts_from_its_own_day(as_of, expected):
    assert keys(run(attendance(("2026-09-10", U), ("2026-11-10", U)), as_of)) == expected


def test_third_absence_after_a_warning_excludes():
    records = attendance(("2026-09-10", U), ("2026-10-10", U), ("2026-11-10", U))
    warned = run(attendance(("2026-09-10", U), ("2026-10-10", U)), "2026-10-20").documents
    found = run(records, "2026-11-26", ledger_of(*warned))
    exclusion = only(found, "exclusion")
    assert exclusion.registered
    assert exclusion.facts["unjustified_absences"] == 3
    assert [(c.member_id, c.status) for c in found.status_changes] == [
        ("Alice", MemberStatus.EXCLUDED)
    ]


def test_three_absences_found_at_once_send_only_the_exclusion():
    records = attendance(("2026-09-10", U), ("2026-10-10", U), ("2026-11-10", U))
    assert keys(run(records, "2026-11-26")) == ["exclusion:Alice"]


def test_no_row_is_not_an_absence_and_excused_absences_do_not_count():
    records = attendance(("2026-09-10", U), ("2026-10-10", J), ("2026-11-10", P))
    assert keys(run(records, "2026-11-26")) == []


def test_excluded_member_is_out_from_the_day_of_the_letter():
    records = attendance(("2026-09-10", U), ("2026-10-10", U), ("2026-11-10", U))
    exclusion = only(run(records, "2026-11-26"), "exclusion")
    ledger = ledger_of(exclusion, issued_on="2026-11-26")
    for as_of, status in (
        ("2026-11-25", MemberStatus.ACTIVE),
        ("2026-11-26", MemberStatus.EXCLUDED),
    ):
        assert Membership(records, ledger, CharterParams(), d(as_of)).status(ALICE) is status
    assert run(records, "2026-12-28", ledger).documents == []


def test_exclusion_takes_the_member_out_of_the_other_rules_in_the_same_run():
    records = coop(
        [member("Alice", "2025-12-10")],
        plenaries=[("Alice", on, U) for on in ("2026-08-10", "2026-09-10", "2026-10-10")],
    )
    # 2026-10-20 is also within Alice's renewal window (anniversary 2026-12-10).
    assert keys(run(records, "2026-10-20")) == ["exclusion:Alice"]


def test_absences_before_joining_do_not_count():
    late = member("Alice", "2026-10-01")
    records = coop([late], plenaries=[("Alice", "2026-09-10", U), ("Alice", "2026-10-10", U)])
    assert keys(run(records, "2026-11-26")) == []


def test_warning_before_go_live_is_historical():
    records = attendance(("2026-09-10", U), ("2026-10-10", U))
    assert only(run(records, "2026-11-26", go_live="2026-11-01"), "plenary_warning").historical
