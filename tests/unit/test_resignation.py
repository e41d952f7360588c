"""Art. 9: resignation notice, 1 week in trial, 1 month from a registered letter after (§4)."""

from datetime import date

import pytest

from charter.membership import Membership
from charter.model import Channel, MemberStatus
from charter.params import CharterParams
from tests.support.builders import coop, d, keys, member, only, run


def resigning(received: str, channel: Channel | None, joined: str = "2026-06-15") -> object:
    return member("Zoé", joined, resignation_received_on=d(received), resignation_channel=channel)


def test_in_trial_notice_is_one_week_from_receipt_by_email():
    found = run(coop([resigning("2026-11-20", Channel.EMAIL)]), "2026-11-26")
    ack = only(found, "resignation_ack")
    assert ack.key == "resignation_ack:Zoé:2026-11-20"
    assert ack.facts["in_trial"] is True
    assert ack.facts["effective_on"] == d("2026-11-27")
    assert ack.registered


@pytest.mark.parametrize(
    ("received", "in_trial"),
    [("2026-12-14", True), ("2026-12-15", False), ("2026-12-16", False)],
)
def test_trial_ends_six_months_after_joining(received, in_trial):
    member_ = resigning(received, Channel.REGISTERED_LETTER)
    assert only(run(coop([member_]), "2026-12-20"), "resignation_ack").facts["in_trial"] is in_trial


def test_trial_ending_on_a_month_end_is_clamped():
    # Joined 31 August: the trial ends on 28 February (31 Aug + 6 months, clamped).
    in_trial = resigning("2027-02-27", Channel.EMAIL, joined="2026-08-31")
    after = resigning("2027-02-28", Channel.EMAIL, joined="2026-08-31")
    assert only(run(coop([in_trial]), "2027-03-01"), "resignation_ack").facts["in_trial"]
    assert keys(run(coop([after]), "2027-03-01")) == ["resignation_invalid:Zoé:2027-02-28"]


def test_after_trial_registered_letter_gives_one_month_notice():
    found = run(
        coop([resigning("2027-01-31", Channel.REGISTERED_LETTER, "2026-01-10")]), "2027-02-01"
    )
    ack = only(found, "resignation_ack")
    assert ack.facts["in_trial"] is False
    assert ack.facts["effective_on"] == d("2027-02-28")  # 31 Jan + 1 month


def test_resignation_by_email_after_trial_starts_no_notice():
    zoe = resigning("2026-11-20", Channel.EMAIL, joined="2025-01-10")
    found = run(coop([zoe]), "2026-11-26")
    invalid = only(found, "resignation_invalid")
    assert invalid.key == "resignation_invalid:Zoé:2026-11-20"
    assert invalid.registered
    membership = Membership(coop([zoe]), {}, CharterParams(), date(2027, 6, 1))
    assert membership.status(zoe) is MemberStatus.ACTIVE


def test_resignation_after_trial_with_no_channel_is_a_data_error():
    found = run(coop([resigning("2026-11-20", None, joined="2025-04-10")]), "2026-11-26")
    assert keys(found) == []
    assert [(e.table, e.record_id, e.field) for e in found.errors] == [
        ("members", "Zoé", "resignation_channel")
    ]


def test_a_resignation_dated_in_the_future_is_not_received_yet():
    assert keys(run(coop([resigning("2026-11-27", Channel.EMAIL)]), "2026-11-26")) == []


@pytest.mark.parametrize(
    ("as_of", "status"),
    [
        ("2026-11-27", MemberStatus.ACTIVE),  # the last day of the notice
        ("2026-11-28", MemberStatus.LEFT),  # the day after
    ],
)
def test_member_leaves_the_day_after_the_notice_ends(as_of, status):
    zoe = resigning("2026-11-20", Channel.EMAIL)
    records = coop([zoe])
    assert Membership(records, {}, CharterParams(), d(as_of)).status(zoe) is status
    changes = run(records, as_of).status_changes
    assert [(c.member_id, c.status) for c in changes] == (
        [("Zoé", MemberStatus.LEFT)] if status is MemberStatus.LEFT else []
    )
