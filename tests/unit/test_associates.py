"""Art. 2: three years to become an associate; reminders at 6 and 1 month (§7)."""

import pytest

from charter.model import Role
from tests.support.builders import alerts, coop, d, keys, ledger_of, member, only, run


# Joined 2024-03-15: deadline 2027-03-15; reminders from 2026-09-15 and 2027-02-15.
def entrepreneur(**fields):
    return member("Inès", "2024-03-15", **fields)


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        ("2026-09-14", []),
        ("2026-09-15", ["associate_reminder:Inès:6"]),
        ("2027-02-14", ["associate_reminder:Inès:6"]),
        ("2027-02-15", ["associate_reminder:Inès:1"]),  # past both stages: only the latest
        ("2027-03-14", ["associate_reminder:Inès:1"]),
        ("2027-03-15", []),  # the deadline itself: too late for a reminder, not yet passed
    ],
)
def test_reminder_stages(as_of, expected):
    found = run(coop([entrepreneur()]), as_of)
    assert keys(found, "associate_reminder") == expected


def test_each_reminder_is_sent_once():
    six = only(run(coop([entrepreneur()]), "2026-10-01"), "associate_reminder")
    assert (
        keys(run(coop([entrepreneur()]), "2026-12-01", ledger_of(six)), "associate_reminder") == []
    )
    one = run(coop([entrepreneur()]), "2027-02-20", ledger_of(six))
    assert keys(one, "associate_reminder") == ["associate_reminder:Inès:1"]
    assert only(one, "associate_reminder").facts["deadline"] == d("2027-03-15")


@pytest.mark.parametrize(("as_of", "alerted"), [("2027-03-15", False), ("2027-03-16", True)])
def test_deadline_passed_alert_from_the_day_after(as_of, alerted):
    found = run(coop([entrepreneur()]), as_of)
    assert alerts(found, "associate_deadline_passed") == ([("Inès", None)] if alerted else [])


def test_associates_and_support_staff_are_not_concerned():
    done = entrepreneur(associate_on=d("2025-01-01"))
    staff = member("Paul", "2024-03-15", role=Role.SUPPORT_STAFF)
    found = run(coop([done, staff]), "2027-02-20")
    assert keys(found, "associate_reminder") == []
    assert run(coop([done, staff]), "2027-04-01").alerts == []


def test_the_deadline_alert_writes_the_first_of_the_month_as_an_ordinal():
    # Joined 2024-03-01: the deadline is 2027-03-01, which an alert writes "1er mars 2027".
    found = run(coop([member("Inès", "2024-03-01")]), "2027-03-02")
    (alert,) = [a for a in found.alerts if a.kind == "associate_deadline_passed"]
    assert "le 1er mars 2027 (art. 2)" in alert.message
