"""Art. 10: renewal dates, non-renewal notice 1 week (trial) or 2 months (anniversary) (§5)."""

import pytest

from charter.membership import Membership
from charter.model import Channel, MemberStatus
from charter.params import CharterParams
from tests.support.builders import alerts, coop, d, keys, ledger_of, member, only, run

# Joined 2026-06-15: trial ends (first renewal date) 2026-12-15, notify by 2026-12-08;
# first anniversary 2027-06-15, notify by 2027-04-15.
JOINED = "2026-06-15"


def newcomer(**fields):
    return member("Léa", JOINED, **fields)


def marked():
    return newcomer(non_renewal=True, non_renewal_reason="Art. 7 : absences répétées")


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-12-07", []),
        ("2026-12-08", []),  # last day the cooperative could still refuse: no confirmation yet
        ("2026-12-09", ["renewal:Léa:2026-12-15"]),
        ("2026-12-15", ["renewal:Léa:2026-12-15"]),
        ("2026-12-16", []),  # the renewal date has passed: a missed confirmation is not sent
    ],
)
def test_end_of_trial_confirmation_window(as_of, expected):
    assert keys(run(coop([newcomer()]), as_of)) == expected


def test_end_of_trial_confirmation_says_so():
    letter = only(run(coop([newcomer()]), "2026-12-10"), "renewal")
    assert letter.facts == {"renewal_on": d("2026-12-15"), "trial_end": True}
    assert not letter.registered


@pytest.mark.parametrize(
    ("as_of", "letter", "too_late"),
    [
        ("2026-12-07", True, False),
        ("2026-12-08", True, False),
        ("2026-12-09", False, True),
    ],
)
def test_non_renewal_in_trial_must_be_notified_a_week_before(as_of, letter, too_late):
    found = run(coop([marked()]), as_of)
    assert keys(found) == (["non_renewal:Léa:2026-12-15"] if letter else [])
    assert alerts(found, "non_renewal_too_late") == ([("Léa", None)] if too_late else [])


def test_too_late_alert_names_the_missed_date_and_the_next_one():
    alert = run(coop([marked()]), "2026-12-10").alerts[0]
    assert alert.extra == {"renewal_on": d("2026-12-15"), "next_renewal_on": d("2027-06-15")}


@pytest.mark.parametrize(
    ("as_of", "kind"),
    [("2027-04-14", "non_renewal"), ("2027-04-15", "non_renewal"), ("2027-04-16", None)],
)
def test_non_renewal_at_an_anniversary_needs_two_months(as_of, kind):
    found = run(coop([marked()]), as_of)
    assert keys(found) == ([f"{kind}:Léa:2027-06-15"] if kind else [])


def test_non_renewal_letter_states_its_terms():
    letter = only(run(coop([marked()]), "2026-12-01"), "non_renewal")
    assert letter.registered
    assert letter.facts["renewal_on"] == d("2026-12-15")
    assert letter.facts["notify_by"] == d("2026-12-08")
    assert letter.facts["last_day"] == d("2026-12-14")
    assert letter.facts["reason"] == "Art. 7 : absences répétées"


def test_member_leaves_on_the_renewal_date_after_a_non_renewal_letter():
    letter = only(run(coop([marked()]), "2026-12-01"), "non_renewal")
    ledger = ledger_of(letter, issued_on="2026-12-01")
    records = coop([marked()])
    for as_of, status in (("2026-12-14", MemberStatus.ACTIVE), ("2026-12-15", MemberStatus.LEFT)):
        membership = Membership(records, ledger, CharterParams(), d(as_of))
        assert membership.status(marked()) is status
    # Once issued, neither a second letter nor a too-late alert.
    later = run(records, "2026-12-10", ledger)
    assert keys(later) == [] and later.alerts == []


def test_mark_without_reason_is_an_error_and_sends_nothing():
    found = run(coop([newcomer(non_renewal=True)]), "2026-12-10")
    assert keys(found) == []
    assert [(e.record_id, e.field) for e in found.errors] == [("Léa", "non_renewal_reason")]


def test_resignation_effective_before_the_renewal_date_cancels_its_letters():
    resigning = newcomer(
        resignation_received_on=d("2026-12-05"), resignation_channel=Channel.EMAIL
    )  # in trial: last day 2026-12-12, before 2026-12-15
    assert keys(run(coop([resigning]), "2026-12-10")) == ["resignation_ack:Léa:2026-12-05"]


def test_anniversary_of_a_29_february_membership_is_28_february():
    leap = member("Max", "2024-02-29")
    assert keys(run(coop([leap]), "2027-01-01"), "renewal") == ["renewal:Max:2027-02-28"]


def test_trial_end_is_not_a_renewal_date_when_the_parameter_says_so():
    params = CharterParams(trial_end_is_renewal_date=False)
    assert keys(run(coop([newcomer()]), "2026-12-10", params=params)) == []
    assert keys(run(coop([newcomer()]), "2027-05-01", params=params)) == ["renewal:Léa:2027-06-15"]


def test_members_who_left_get_no_renewal_letter():
    assert keys(run(coop([newcomer(status=MemberStatus.LEFT)]), "2026-12-10")) == []
