"""The daily job on Airtable: the real pyairtable client against the loopback emulator.

The base is built from nothing by ``cae airtable init``'s code and loaded with the example
cooperative; the run must find the same documents, alerts and errors as on the CSV folder,
keep its ledger in Versements and Courriers, and spend exactly the fewest requests
Airtable allows.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from emulators.airtable import AirtableEmulator
from emulators.airtable.minimum import minimum_requests as shared_minimum
from flows.daily import daily
from tests.support.airtable_example import (
    BASE,
    INPUT_TABLES,
    LEDGER_TABLES,
    PAYOUTS,
    PENALTY,
    TOKEN,
    build_example_base,
    environment,
    example_base,
    named,
)
from tests.support.example_runs import RUN_1, RUN_2, assert_matches, ledger_rows

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]


def minimum_requests(emulator: AirtableEmulator, summary: dict, statuses: int, before: dict) -> int:
    """The fewest requests (``emulators/airtable/minimum.py``): every table read, then three
    write phases: claim (upsert) and mark sent (update) of each document, and Membres.Statut."""
    kinds = Counter(
        "Versements" if d["kind"] in PAYOUTS else "Courriers" for d in summary["documents"]
    )
    reads = {table: before[table] for table in INPUT_TABLES + LEDGER_TABLES}
    return shared_minimum(reads, [kinds, kinds, {"Membres": statuses}])


def sizes(emulator: AirtableEmulator) -> dict[str, int]:
    return {t: len(emulator.records(t)) for t in INPUT_TABLES + LEDGER_TABLES}


@pytest.fixture(scope="module")
def airtable_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("airtable") / "out"
    with example_base() as emulator:
        runs: dict = {"emulator": emulator}

        before = sizes(emulator)
        first = daily(source="airtable", as_of=date(2026, 11, 26), out=str(out))
        runs["first"] = named(first, emulator)
        runs["first_requests"] = emulator.count()
        runs["first_minimum"] = minimum_requests(emulator, first, statuses=1, before=before)
        runs["first_429"] = emulator.count_429()
        runs["statuses"] = {
            r["fields"]["Nom"]: r["fields"].get("Statut") for r in emulator.records("Membres")
        }
        runs["ledger"] = {t: emulator.records(t) for t in LEDGER_TABLES}

        emulator.reset_counts()
        runs["again"] = daily(source="airtable", as_of=date(2026, 11, 26), out=str(out))
        runs["again_writes"] = emulator.count() - emulator.count(operation="list")

        missions = {r["fields"]["Mission"]: r["id"] for r in emulator.records("Missions")}
        for edit in RUN_2["edits_before"]:
            value = edit["value"]
            if edit["field"] == "Coûts directs":
                value = float(value.replace(" ", ""))
            emulator.change_record("Missions", missions[edit["record"]], {edit["field"]: value})
        second = daily(source="airtable", as_of=date(2026, 12, 28), out=str(out))
        runs["second"] = named(second, emulator)
        yield runs


def test_airtable_run_issues_what_the_local_run_issues(airtable_runs):
    assert_matches(RUN_1, airtable_runs["first"], source="airtable")


def test_ledger_rows_land_in_versements_and_courriers(airtable_runs):
    rows = ledger_rows(airtable_runs)
    assert {r["fields"]["Statut"] for r in rows} == {"sent"}
    assert all(r["fields"]["Membre"] and r["fields"]["Émis le"] == "2026-11-26" for r in rows)
    ledger = airtable_runs["ledger"]
    (mid,) = [
        r
        for r in ledger["Versements"]
        if r["fields"]["Montant"] == 750.0 and r["fields"]["Taux"] == 0.15
    ]
    assert mid["fields"]["Type"] == "payout_mid" and mid["fields"]["Mission"]
    registered = [r for r in ledger["Courriers"] if r["fields"].get("Recommandé")]
    assert len(registered) == 4


def test_first_run_spends_exactly_the_minimum_requests_and_no_429(airtable_runs):
    assert airtable_runs["first_429"] == 0
    assert airtable_runs["first_requests"] == airtable_runs["first_minimum"]


def test_excluded_member_status_is_written_back(airtable_runs):
    assert airtable_runs["statuses"]["Julien Perrot"] == "Exclu·e"
    assert airtable_runs["statuses"]["Karim Haddad"] == "Sorti·e"  # typed by the staff


def test_second_run_the_same_day_issues_and_writes_nothing(airtable_runs):
    assert airtable_runs["again"]["documents"] == []
    assert airtable_runs["again_writes"] == 0


def test_a_month_later_on_the_edited_base(airtable_runs):
    assert_matches(RUN_2, airtable_runs["second"])


def test_429_and_503_mid_run_are_waited_out_and_nothing_is_issued_twice(tmp_path, monkeypatch):
    with AirtableEmulator(TOKEN, BASE, penalty_seconds=PENALTY) as emulator:
        for name, value in environment(emulator).items():
            monkeypatch.setenv(name, value)
        build_example_base(emulator)
        emulator.inject(status=503, count=2, when=lambda r: r.table == "Factures")
        emulator.inject(
            status=429, count=1, when=lambda r: r.table == "Courriers" and r.method == "PATCH"
        )
        emulator.inject(
            status=502, count=1, when=lambda r: r.table == "Versements" and r.method == "PATCH"
        )
        summary = daily(source="airtable", as_of=date(2026, 11, 26), out=str(tmp_path))
        assert emulator.count(status=503) == 2 and emulator.count(status=429) >= 1
        assert_matches(RUN_1, named(summary, emulator))
        keys = [r["fields"]["Clé"] for t in LEDGER_TABLES for r in emulator.records(t)]
        assert len(keys) == len(set(keys)) == len(summary["documents"])
        assert {r["fields"]["Statut"] for t in LEDGER_TABLES for r in emulator.records(t)} == {
            "sent"
        }
        again = daily(source="airtable", as_of=date(2026, 11, 26), out=str(tmp_path))
        assert again["documents"] == []


def test_cae_airtable_init_builds_an_empty_base_once(monkeypatch, capsys):
    from cae.cli import main

    with AirtableEmulator(TOKEN, BASE, penalty_seconds=PENALTY) as emulator:
        for name, value in environment(emulator).items():
            monkeypatch.setenv(name, value)
        assert main(["airtable", "init"]) == 0
        tables = {t["name"]: t for t in emulator.schema()["tables"]}
        assert set(INPUT_TABLES + LEDGER_TABLES) <= set(tables)
        fields = {f["name"]: f for f in tables["Missions"]["fields"]}
        assert fields["Étape"]["type"] == "singleSelect"
        assert [c["name"] for c in fields["Étape"]["options"]["choices"]] == [
            "Devis", "Signée", "En développement", "Mi-parcours", "Livrée", "Annulée",
        ]  # fmt: skip
        assert fields["Porteur·euse"]["type"] == "multipleRecordLinks"
        assert fields["CA HT"]["type"] == "currency"
        assert "Tables créées : Membres" in capsys.readouterr().out
        assert main(["airtable", "init"]) == 0
        assert "Tables créées : aucune ; champs ajoutés : 0" in capsys.readouterr().out
        assert emulator.count_429() == 0
