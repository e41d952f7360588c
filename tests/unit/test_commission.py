"""Art. 4: the bearer commission, half at mid-development, the rest at delivery (§2)."""

from dataclasses import fields, replace
from datetime import date
from decimal import Decimal

import pytest

from charter.model import Document, Involvement, LedgerEntry, LedgerStatus, Stage
from charter.params import CharterParams
from tests.support.builders import alerts, coop, d, kinds, ledger_of, member, mission, only, run

BEARER = member("Alice")


def bearer_mission(stage=Stage.SIGNED, **fields):
    fields.setdefault("bearer_id", "Alice")
    fields.setdefault("bearer_involvement", Involvement.SPECIFICATION)
    fields.setdefault("revenue", Decimal("12000"))
    fields.setdefault("direct_costs", Decimal("2000"))
    return mission("Refonte", stage, **fields)


def test_mid_notice_pays_half_of_the_rate_on_the_gross_margin():
    found = run(coop([BEARER], [bearer_mission(Stage.MIDWAY)]), "2026-11-26")
    notice = only(found, "payout_mid")
    assert notice.key == "payout_mid:Refonte"
    assert notice.member_id == "Alice"
    assert notice.facts["rate"] == Decimal("0.15")
    assert notice.facts["gross_margin"] == Decimal("10000")
    assert notice.amount == Decimal("750.00")
    assert notice.facts["total"] == Decimal("1500.00")
    assert notice.facts["remaining"] == Decimal("750.00")


@pytest.mark.parametrize(
    ("involvement", "amount"),
    [
        (Involvement.BUSINESS_BROUGHT, "250.00"),
        (Involvement.SPECIFICATION, "750.00"),
        (Involvement.DEVELOPMENT, "1500.00"),
    ],
)
def test_rate_follows_the_bearers_own_involvement(involvement, amount):
    records = coop([BEARER], [bearer_mission(Stage.MIDWAY, bearer_involvement=involvement)])
    assert only(run(records, "2026-11-26"), "payout_mid").amount == Decimal(amount)


@pytest.mark.parametrize(("as_of", "due"), [("2026-11-09", False), ("2026-11-10", True)])
def test_mid_date_counts_from_that_day_for_a_signed_mission(as_of, due):
    records = coop([BEARER], [bearer_mission(Stage.IN_DEVELOPMENT, mid_on=d("2026-11-10"))])
    assert kinds(run(records, as_of)) == (["payout_mid"] if due else [])


def test_stage_dates_do_not_count_for_a_quote():
    records = coop(
        [BEARER],
        [bearer_mission(Stage.QUOTE, mid_on=d("2026-01-01"), delivered_on=d("2026-02-01"))],
    )
    assert kinds(run(records, "2026-11-26")) == []


def test_mid_notice_rounds_half_up_to_the_cent():
    # 5 % × 50 % × 100.10 = 2.5025 → 2.50 ; 30 % × 50 % × 0.03 = 0.0045 → 0.00 ; 0.05 → 0.0075
    records = coop(
        [BEARER],
        [
            bearer_mission(
                Stage.MIDWAY,
                revenue=Decimal("100.30"),
                direct_costs=Decimal("0"),
                bearer_involvement=Involvement.BUSINESS_BROUGHT,
            )
        ],
    )
    # 0.05 × 0.5 × 100.30 = 2.5075 → 2.51
    assert only(run(records, "2026-11-26"), "payout_mid").amount == Decimal("2.51")


def test_delivery_pays_the_balance_after_the_mid_notice():
    mid = only(run(coop([BEARER], [bearer_mission(Stage.MIDWAY)]), "2026-11-26"), "payout_mid")
    found = run(coop([BEARER], [bearer_mission(Stage.DELIVERED)]), "2026-12-28", ledger_of(mid))
    notice = only(found, "payout_delivery")
    assert notice.facts["total"] == Decimal("1500.00")
    assert notice.facts["paid_before"] == Decimal("750.00")
    assert notice.amount == Decimal("750.00")
    assert alerts(found, "payout_regularisation") == []


def test_margin_falling_between_mid_and_delivery_is_a_regularisation():
    mid = only(run(coop([BEARER], [bearer_mission(Stage.MIDWAY)]), "2026-11-26"), "payout_mid")
    lower = bearer_mission(Stage.DELIVERED, revenue=Decimal("6000"), direct_costs=Decimal("2000"))
    found = run(coop([BEARER], [lower]), "2026-12-28", ledger_of(mid))
    notice = only(found, "payout_delivery")
    # total 15 % × 4 000 = 600.00, 750.00 already paid: 150.00 owed back, not clamped
    assert notice.facts["total"] == Decimal("600.00")
    assert notice.amount == Decimal("-150.00")
    assert alerts(found, "payout_regularisation") == [("Alice", "Refonte")]


def test_mission_delivered_with_no_mid_notice_pays_the_whole_at_once():
    found = run(
        coop([BEARER], [bearer_mission(Stage.DELIVERED, mid_on=d("2026-10-01"))]), "2026-11-26"
    )
    assert kinds(found) == ["payout_delivery"]
    notice = only(found, "payout_delivery")
    assert notice.facts["paid_before"] == Decimal("0")
    assert notice.amount == Decimal("1500.00")


@pytest.mark.parametrize(
    ("as_of", "kind"), [("2026-11-30", "payout_mid"), ("2026-12-01", "payout_delivery")]
)
def test_delivery_date_counts_from_that_day(as_of, kind):
    records = coop(
        [BEARER],
        [bearer_mission(Stage.MIDWAY, delivered_on=d("2026-12-01"))],
    )
    assert kinds(run(records, as_of)) == [kind]


def test_historical_mid_notice_counts_as_paid():
    history = {
        "payout_mid:Refonte": LedgerEntry(
            "payout_mid:Refonte",
            "payout_mid",
            LedgerStatus.HISTORICAL,
            d("2026-11-01"),
            Decimal("750.00"),
            "Alice",
            "Refonte",
        )
    }
    found = run(coop([BEARER], [bearer_mission(Stage.DELIVERED)]), "2026-11-26", history)
    assert only(found, "payout_delivery").amount == Decimal("750.00")


def test_no_mid_notice_for_a_zero_margin_and_delivery_settles_the_whole():
    flat = bearer_mission(Stage.MIDWAY, revenue=Decimal("2000"))
    assert kinds(run(coop([BEARER], [flat]), "2026-11-26")) == []
    later = bearer_mission(Stage.DELIVERED, revenue=Decimal("4000"))
    assert only(run(coop([BEARER], [later]), "2026-12-28"), "payout_delivery").amount == Decimal(
        "300.00"
    )


def test_cancelled_mission_is_never_paid():
    found = run(
        coop([BEARER], [bearer_mission(Stage.CANCELLED, mid_on=d("2026-01-01"))]), "2026-11-26"
    )
    assert kinds(found) == []
    assert alerts(found, "mission_cancelled_after_payout") == []


def test_cancellation_after_a_mid_notice_is_flagged_for_review():
    mid = only(run(coop([BEARER], [bearer_mission(Stage.MIDWAY)]), "2026-11-26"), "payout_mid")
    found = run(coop([BEARER], [bearer_mission(Stage.CANCELLED)]), "2026-12-28", ledger_of(mid))
    assert kinds(found) == []
    assert alerts(found, "mission_cancelled_after_payout") == [("Alice", "Refonte")]


def test_no_bearer_no_commission():
    found = run(coop([BEARER], [bearer_mission(Stage.DELIVERED, bearer_id=None)]), "2026-11-26")
    assert kinds(found) == [] and found.errors == []


@pytest.mark.parametrize("missing", ["bearer_involvement", "revenue"])
def test_missing_involvement_or_revenue_is_an_error_on_the_mission(missing):
    found = run(coop([BEARER], [bearer_mission(Stage.MIDWAY, **{missing: None})]), "2026-11-26")
    assert kinds(found) == []
    assert [(e.table, e.record_id, e.field) for e in found.errors] == [
        ("missions", "Refonte", missing)
    ]


def test_a_value_already_reported_as_unreadable_is_not_reported_again():
    records = coop(
        [BEARER], [bearer_mission(Stage.MIDWAY, revenue=None, invalid=frozenset({"revenue"}))]
    )
    found = run(records, "2026-11-26")
    assert kinds(found) == [] and found.errors == []


def test_notice_already_in_the_ledger_is_not_issued_again():
    records = coop([BEARER], [bearer_mission(Stage.MIDWAY)])
    first = run(records, "2026-11-26")
    assert kinds(run(records, "2026-11-27", ledger_of(*first.documents))) == []


def test_bearer_rates_are_parameters():
    params = CharterParams.from_mapping(
        {"bearer_rates": {"cahier_des_charges": 0.2}, "mid_share": 0.4}
    )
    found = run(coop([BEARER], [bearer_mission(Stage.MIDWAY)]), "2026-11-26", params=params)
    assert only(found, "payout_mid").amount == Decimal("800.00")


def test_notice_before_go_live_is_historical():
    records = coop([BEARER], [bearer_mission(Stage.DELIVERED, delivered_on=d("2026-10-31"))])
    assert only(run(records, "2026-11-26", go_live="2026-11-01"), "payout_delivery").historical
    assert not only(run(records, "2026-11-26", go_live="2026-10-31"), "payout_delivery").historical


def test_negative_balance_without_regularisation_notice_leaves_only_the_alert():
    mid = only(run(coop([BEARER], [bearer_mission(Stage.MIDWAY)]), "2026-11-26"), "payout_mid")
    lower = bearer_mission(Stage.DELIVERED, revenue=Decimal("6000"), direct_costs=Decimal("2000"))
    params = CharterParams(negative_delivery_is_regularisation=False)
    found = run(coop([BEARER], [lower]), "2026-12-28", ledger_of(mid), params=params)
    assert kinds(found) == []
    assert alerts(found, "payout_regularisation") == [("Alice", "Refonte")]


# Go-live between the two dates of a mission (docs/charter.md, "Go-live and the two halves").
# Mission n°695 of issue 19: 15 % of 12,000 − 2,000, mid-development 2026-08-01, delivered
# 2026-10-20, go-live 2026-10-01. The first half (750.00) was settled by hand before go-live.
GO_LIVE = "2026-10-01"


def straddling(stage=Stage.DELIVERED, **fields):
    fields.setdefault("mid_on", d("2026-08-01"))
    fields.setdefault("delivered_on", d("2026-10-20"))
    return bearer_mission(stage, **fields)


def first_run_then_daily(records, first_day: str, last_day: str = "2026-11-26"):
    """Every document issued or recorded from a first run on ``first_day`` to ``last_day``,
    one run a day, carrying the ledger as the job does."""
    ledger = {}
    day = d(first_day)
    while day <= d(last_day):
        found = run(records, day.isoformat(), ledger, go_live=GO_LIVE)
        ledger.update(ledger_of(*found.documents))
        day = day.fromordinal(day.toordinal() + 1)
    return ledger


@pytest.mark.parametrize("first_day", ["2026-10-01", "2026-10-19", "2026-10-20", "2026-11-26"])
def test_delivery_pays_the_balance_of_a_half_settled_before_go_live_whatever_the_first_day(
    first_day,
):
    ledger = first_run_then_daily(coop([BEARER], [straddling(Stage.IN_DEVELOPMENT)]), first_day)
    mid, delivery = ledger["payout_mid:Refonte"], ledger["payout_delivery:Refonte"]
    assert (mid.status, mid.amount) == (LedgerStatus.HISTORICAL, Decimal("750.00"))
    assert (delivery.status, delivery.amount) == (LedgerStatus.SENT, Decimal("750.00"))


def test_first_run_after_delivery_records_the_historical_half_and_pays_the_balance():
    found = run(coop([BEARER], [straddling()]), "2026-11-26", go_live=GO_LIVE)
    mid, delivery = only(found, "payout_mid"), only(found, "payout_delivery")
    assert mid.historical and mid.amount == Decimal("750.00")
    assert not delivery.historical
    assert delivery.facts["paid_before"] == Decimal("750.00")
    assert delivery.facts["mid_settled_before_go_live"] is True
    assert delivery.amount == Decimal("750.00")
    assert delivery.facts["total"] == Decimal("1500.00")


def test_both_dates_before_go_live_make_two_historical_records():
    records = coop([BEARER], [straddling(delivered_on=d("2026-09-15"))])
    found = run(records, "2026-11-26", go_live=GO_LIVE)
    assert kinds(found) == ["payout_delivery", "payout_mid"]
    assert all(doc.historical for doc in found.documents)
    assert sum(doc.amount for doc in found.documents) == Decimal("1500.00")


def test_first_seen_delivered_after_go_live_with_mid_after_go_live_pays_the_whole_once():
    records = coop([BEARER], [straddling(mid_on=d("2026-10-05"))])
    found = run(records, "2026-11-26", go_live=GO_LIVE)
    assert kinds(found) == ["payout_delivery"]
    notice = only(found, "payout_delivery")
    assert notice.amount == Decimal("1500.00") and notice.facts["paid_before"] == 0
    assert notice.facts["mid_settled_before_go_live"] is False


def test_without_go_live_a_mission_first_seen_delivered_is_paid_whole():
    found = run(coop([BEARER], [straddling()]), "2026-11-26")
    assert kinds(found) == ["payout_delivery"]
    assert only(found, "payout_delivery").amount == Decimal("1500.00")


def test_a_half_before_go_live_with_no_margin_leaves_the_whole_to_the_delivery():
    records = coop([BEARER], [straddling(revenue=Decimal("2000"), direct_costs=Decimal("2500"))])
    found = run(records, "2026-11-26", go_live=GO_LIVE)
    assert kinds(found) == ["payout_delivery"]
    assert only(found, "payout_delivery").amount == Decimal("-75.00")


def test_a_data_error_on_a_mission_straddling_go_live_is_reported_once():
    records = coop([BEARER], [straddling(bearer_involvement=None)])
    found = run(records, "2026-11-26", go_live=GO_LIVE)
    assert kinds(found) == []
    assert [(e.record_id, e.field) for e in found.errors] == [("Refonte", "bearer_involvement")]


def test_a_half_recorded_before_go_live_by_an_earlier_run_is_worded_as_settled_before():
    first = run(coop([BEARER], [straddling(Stage.IN_DEVELOPMENT)]), "2026-10-01", go_live=GO_LIVE)
    assert only(first, "payout_mid").historical
    later = run(
        coop([BEARER], [straddling()]), "2026-10-20", ledger_of(*first.documents), go_live=GO_LIVE
    )
    notice = only(later, "payout_delivery")
    assert notice.facts["mid_settled_before_go_live"] is True
    assert notice.amount == Decimal("750.00")


def test_a_document_made_historical_keeps_every_other_field():
    # Every field set to something other than its default, so a field forgotten by
    # ``as_historical`` would come back as its default and differ.
    doc = Document(
        "payout_mid",
        "payout_mid:Refonte",
        "Alice",
        {"amount": Decimal("750.00")},
        trigger_on=date(2026, 9, 1),
        mission_id="Refonte",
        sponsor_id="Bob",
        registered=True,
    )
    assert {f.name for f in fields(Document)} == {
        "kind", "key", "member_id", "facts", "trigger_on", "mission_id", "sponsor_id",
        "registered", "historical",
    }  # fmt: skip
    assert doc.as_historical() == replace(doc, historical=True)
