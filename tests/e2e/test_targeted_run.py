"""Targeted runs: only the rules that concern one mission or member, reading little."""

from __future__ import annotations

from datetime import date

import pytest

from emulators.airtable import AirtableEmulator
from flows.daily import daily
from flows.targeted import targeted
from settings.defaults import EXAMPLE_DIR
from tests.support.airtable_example import BASE, PENALTY, TOKEN, build_example_base, environment
from tests.support.example_runs import MISSION, RUN_1

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]


def flow_run_name(state) -> str:
    from prefect.client.orchestration import get_client

    with get_client(sync_client=True) as client:
        return client.read_flow_run(state.state_details.flow_run_id).name


def test_targeted_mission_run_issues_only_that_missions_notice(tmp_path):
    state = targeted(
        kind="mission", record=MISSION, data=str(EXAMPLE_DIR), as_of=date(2026, 11, 26),
        out=str(tmp_path), return_state=True,
    )  # fmt: skip
    summary = state.result()
    assert [(d["kind"], d["mission"], d["amount"]) for d in summary["documents"]] == [
        ("payout_mid", MISSION, "750.00")
    ]
    assert all(a.get("mission") == MISSION for a in summary["alerts"])
    assert summary["errors"] == []
    assert flow_run_name(state) == f"mission-{MISSION}"
    assert not (tmp_path / "run-summary.json").exists()  # the daily summary is not overwritten

    later = daily(data=str(EXAMPLE_DIR), as_of=date(2026, 11, 26), out=str(tmp_path))
    keys = {d["key"] for d in later["documents"]}
    assert len(keys) == 21 and f"payout_mid:{MISSION}" not in keys


def test_targeted_member_run_issues_only_that_members_letters(tmp_path):
    summary = targeted(
        kind="member", record="Julien Perrot", data=str(EXAMPLE_DIR), as_of=date(2026, 11, 26),
        out=str(tmp_path),
    )  # fmt: skip
    expected = {d["key"] for d in RUN_1["documents"] if d["member"] == "Julien Perrot"}
    assert "exclusion:Julien Perrot" in expected
    assert {d["key"] for d in summary["documents"]} == expected
    assert all(a.get("member") == "Julien Perrot" for a in summary["alerts"])


def test_targeted_airtable_mission_run_reads_only_what_it_needs(tmp_path, monkeypatch):
    with AirtableEmulator(TOKEN, BASE, penalty_seconds=PENALTY) as emulator:
        for name, value in environment(emulator).items():
            monkeypatch.setenv(name, value)
        build_example_base(emulator)
        (mission_id,) = [
            r["id"] for r in emulator.records("Missions") if r["fields"]["Mission"] == MISSION
        ]
        summary = targeted(
            kind="mission", record=mission_id, source="airtable", as_of=date(2026, 11, 26),
            out=str(tmp_path),
        )  # fmt: skip
        assert [(d["kind"], d["mission"], d["amount"]) for d in summary["documents"]] == [
            ("payout_mid", MISSION, "750.00")
        ]
        # The mission (1) and the members it links to (1) — none of them has a sponsor outside
        # the mission, so no third read — the two ledger tables filtered to the mission's keys
        # (2); then one claim and one mark in Versements (2).
        assert emulator.count() == 6
        assert emulator.count(operation="list", table="Membres") == 1
        assert emulator.count(operation="list", table="Factures") == 0
        (row,) = emulator.records("Versements")
        assert row["fields"]["Statut"] == "sent"
