"""Money invariants and determinism, over generated cooperatives (hypothesis)."""

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from charter.commission import commission_total
from charter.evaluate import evaluate
from charter.model import (
    Attendance,
    Channel,
    Cooperative,
    Invoice,
    Involvement,
    Member,
    Mission,
    Plenary,
    Presence,
    Stage,
)
from charter.params import CharterParams
from tests.support.builders import ledger_of

cents = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("500000"), places=2)
signed_cents = st.decimals(min_value=Decimal("-50000"), max_value=Decimal("500000"), places=2)
days = st.dates(min_value=date(2022, 1, 1), max_value=date(2027, 12, 31))
rates = st.decimals(min_value=Decimal("0"), max_value=Decimal("1"), places=3)


@given(
    revenue=cents,
    costs=cents,
    final_revenue=cents,
    involvement=st.sampled_from(list(Involvement)),
    mid_share=rates,
)
def test_mid_and_delivery_notices_add_up_to_the_total_to_the_cent(
    revenue, costs, final_revenue, involvement, mid_share
):
    params = CharterParams(mid_share=mid_share)
    bearer = Member("B", "B", date(2020, 3, 15))

    def records(stage: Stage, revenue: Decimal) -> Cooperative:
        mission = Mission(
            "M",
            "M",
            stage,
            bearer_id="B",
            bearer_involvement=involvement,
            revenue=revenue,
            direct_costs=costs,
            project_manager_id="B",
            lead_developer_id="B",
        )
        return Cooperative({"B": bearer}, {"M": mission})

    first = evaluate(records(Stage.MIDWAY, revenue), {}, date(2026, 11, 26), params)
    ledger = ledger_of(*first.documents)
    final = evaluate(records(Stage.DELIVERED, final_revenue), ledger, date(2026, 12, 28), params)
    payouts = [d for d in first.documents + final.documents if d.kind.startswith("payout")]
    rate = params.bearer_rates[involvement]
    assert sum(d.amount for d in payouts) == commission_total(rate, final_revenue - costs)
    assert [d.kind for d in payouts][-1] == "payout_delivery"
    for doc in payouts:
        assert doc.amount == doc.amount.quantize(Decimal("0.01"))


@given(
    st.lists(
        st.tuples(st.sampled_from(["A", "B", "C"]), days, signed_cents, signed_cents),
        max_size=30,
    ),
    st.dates(min_value=date(2023, 1, 1), max_value=date(2027, 12, 31)),
)
def test_contributions_are_never_negative(rows, as_of):
    members = {n: Member(n, n, date(2020, 3, 15)) for n in "ABC"}
    invoices = [
        Invoice(f"F{i}", f"F{i}", who, on, amount, costs)
        for i, (who, on, amount, costs) in enumerate(rows)
    ]
    found = evaluate(Cooperative(members, {}, invoices), {}, as_of, go_live=date(2022, 1, 1))
    statements = [d for d in found.documents if d.kind == "contribution_statement"]
    assert all(d.amount >= 0 for d in statements)
    assert all(d.amount == 0 for d in statements if d.facts["gross_margin"] <= 0)


names = st.sampled_from(["Ana", "Bo", "Cy", "Di", "Ed", "Flo"])


@st.composite
def cooperatives(draw):
    members = {}
    for name in draw(st.sets(names, min_size=1)):
        members[name] = Member(
            name,
            name,
            draw(days),
            founder=draw(st.booleans()),
            associate_on=draw(st.none() | days),
            sponsor_id=draw(st.none() | names),
            resignation_received_on=draw(st.none() | days),
            resignation_channel=draw(st.none() | st.sampled_from(list(Channel))),
            non_renewal=draw(st.booleans()),
            non_renewal_reason=draw(st.none() | st.just("Art. 7")),
        )
    missions = {}
    for i in range(draw(st.integers(0, 6))):
        missions[f"M{i}"] = Mission(
            f"M{i}",
            f"M{i}",
            draw(st.none() | st.sampled_from(list(Stage))),
            bearer_id=draw(st.none() | names),
            bearer_involvement=draw(st.none() | st.sampled_from(list(Involvement))),
            project_manager_id=draw(st.none() | names),
            lead_developer_id=draw(st.none() | names),
            revenue=draw(st.none() | cents),
            mid_on=draw(st.none() | days),
            delivered_on=draw(st.none() | days),
            piloted_for_id=draw(st.none() | names),
        )
    plenary_days = [date(2026, m, 10) for m in range(1, 12)]
    plenaries = {p.isoformat(): Plenary(p.isoformat(), p.isoformat(), p) for p in plenary_days}
    attendance = [
        Attendance(
            draw(st.sampled_from(sorted(plenaries))), who, draw(st.sampled_from(list(Presence)))
        )
        for who in members
        for _ in range(draw(st.integers(0, 4)))
    ]
    return Cooperative(members, missions, [], plenaries, attendance, [], [])


@settings(max_examples=150)
@given(cooperatives(), st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)))
def test_evaluation_is_deterministic_for_the_same_data_and_day(coop, as_of):
    first = evaluate(coop, {}, as_of)
    again = evaluate(coop, {}, as_of)
    assert first == again
    reordered = Cooperative(
        dict(reversed(list(coop.members.items()))),
        dict(reversed(list(coop.missions.items()))),
        coop.invoices,
        coop.plenaries,
        list(reversed(coop.attendance or [])),
        coop.volunteering,
        coop.workshops,
    )
    shuffled = evaluate(reordered, {}, as_of)
    assert sorted(d.key for d in shuffled.documents) == sorted(d.key for d in first.documents)
    assert sorted(map(repr, shuffled.alerts)) == sorted(map(repr, first.alerts))


@given(cooperatives(), st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 6, 30)))
def test_a_second_run_the_same_day_issues_nothing(coop, as_of):
    first = evaluate(coop, {}, as_of)
    keys = [d.key for d in first.documents]
    assert len(keys) == len(set(keys))
    second = evaluate(coop, ledger_of(*first.documents, issued_on=as_of.isoformat()), as_of)
    assert second.documents == []
    later = evaluate(
        coop, ledger_of(*first.documents, issued_on=as_of.isoformat()), as_of + timedelta(days=1)
    )
    assert not {d.key for d in later.documents} & set(keys)
