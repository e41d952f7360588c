"""The daily job on Notion: the real notion-client against the loopback emulator.

The databases are built from nothing by ``cae notion init``'s code and loaded with the example
cooperative; the run must find the same documents, alerts and errors as on the CSV folder,
keep its ledger in Versements and Courriers, spend exactly the fewest requests Notion allows
at Notion's 3 requests a second without one 429, and survive 429s and server errors mid-run
without issuing anything twice.
"""

from __future__ import annotations

import json
import tomllib
from collections import Counter
from datetime import date
from typing import Any

import pytest

from emulators.notion import NotionEmulator
from flows.daily import daily
from flows.targeted import targeted
from integrations.notion_properties import page_title, plain_value
from settings.config import NOTION_TABLES
from tests.support.airtable_example import LEDGER_TABLES, PAYOUTS
from tests.support.example_runs import MISSION, RUN_1, RUN_2, assert_matches, ledger_rows
from tests.support.notion_example import FAST, TOKEN, build_workspace, environment

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]


def operations(emulator: NotionEmulator) -> Counter[str]:
    return Counter(r.operation for r in emulator.requests)


@pytest.fixture(scope="module")
def notion_runs(tmp_path_factory: pytest.TempPathFactory) -> Any:
    folder = tmp_path_factory.mktemp("notion")
    out = str(folder / "out")
    with NotionEmulator(TOKEN, seed=11) as emulator, pytest.MonkeyPatch.context() as patch:
        for name, value in environment(emulator).items():
            patch.setenv(name, value)
        patch.delenv("CAE_NOTION_RATE", raising=False)  # Notion's 3 a second, as in production
        workspace = build_workspace(emulator, folder)
        config = str(workspace.config)
        runs: dict[str, Any] = {"workspace": workspace}

        first = daily(source="notion", as_of=date(2026, 11, 26), out=out, config=config)
        runs["first"] = workspace.named(first)
        runs["first_requests"] = operations(emulator)
        runs["first_429"] = emulator.count_429()
        runs["statuses"] = {
            page_title(p): plain_value(p["properties"]["Statut"])
            for p in workspace.pages("members")
        }
        runs["ledger"] = workspace.ledger()

        emulator.reset_counts()
        runs["again"] = daily(source="notion", as_of=date(2026, 11, 26), out=out, config=config)
        runs["again_requests"] = operations(emulator)

        for edit in RUN_2["edits_before"]:
            value = edit["value"]
            prop = (
                {"number": float(value.replace(" ", ""))}
                if edit["field"] == "Coûts directs"
                else {"select": {"name": value}}
            )
            emulator.update(workspace.page_id("missions", edit["record"]), {edit["field"]: prop})
        emulator.rate = None  # a month later: what is issued matters here, not the pace
        patch.setenv("CAE_NOTION_RATE", FAST["CAE_NOTION_RATE"])
        second = daily(source="notion", as_of=date(2026, 12, 28), out=out, config=config)
        runs["second"] = workspace.named(second)
        yield runs


def test_notion_run_issues_what_the_local_run_issues(notion_runs):
    assert_matches(RUN_1, notion_runs["first"], source="notion")


def test_ledger_rows_land_in_versements_and_courriers(notion_runs):
    ledger = notion_runs["ledger"]
    rows = ledger_rows(notion_runs)
    assert {r["Statut"] for r in rows} == {"sent"}
    assert all(r["Membre"] and r["Émis le"] == "2026-11-26" and r["Document"] for r in rows)
    assert all(json.loads(r["Détails"])["key"] == r["Clé"] for r in rows)
    (mid,) = [r for r in ledger["Versements"] if r["Montant"] == 750.0 and r["Taux"] == 0.15]
    assert mid["Type"] == "payout_mid" and mid["Mission"]
    assert {r["Type"] for r in ledger["Versements"]} <= PAYOUTS
    registered = [r for r in ledger["Courriers"] if r["Recommandé"]]
    assert len(registered) == 4


def test_first_run_spends_exactly_the_requests_it_needs_and_no_429(notion_runs):
    # The fewest requests, with the data source ids in cae.toml (no request to
    # resolve a database) and no relation past the 25 a page shows (no property request):
    # - reads, ⌈pages/100⌉ per data source, at least one: Membres 18, Missions 20, Factures 15,
    #   Plénières 7, Ateliers 7 → 1 each; Présences 106 and Bénévolat 124 → 2 each; the ledger's
    #   Versements and Courriers, empty → 1 each: 11 queries;
    # - claim: one page created per document: 22 (7 payout notices, 15 letters);
    # - mark sent: one page update per document: 22; Membres.Statut: one update for Julien
    #   Perrot's exclusion (Karim Haddad's « Sorti·e » was typed by the staff): 1.
    assert notion_runs["first_requests"] == {"query": 11, "create_page": 22, "update_page": 23}
    # The emulator's bucket is Notion's (3 a second, 3 at once): no 429 means the client kept
    # to it by itself, so the 56 requests took at least (56 − 3) / 3 s.
    assert notion_runs["first_429"] == 0


def test_excluded_member_status_is_written_back(notion_runs):
    assert notion_runs["statuses"]["Julien Perrot"] == "Exclu·e"
    assert notion_runs["statuses"]["Karim Haddad"] == "Sorti·e"  # typed by the staff


def test_second_run_the_same_day_issues_and_writes_nothing(notion_runs):
    assert notion_runs["again"]["documents"] == []
    assert notion_runs["again_requests"] == {"query": 11}  # the reads, and nothing else


def test_a_month_later_on_the_edited_workspace(notion_runs):
    assert_matches(RUN_2, notion_runs["second"])


def after(emulator: NotionEmulator, operation: str, done: int):
    """A fault condition: the ``operation`` once ``done`` of them have succeeded."""
    return lambda r: (
        r.operation == operation and emulator.count(operation=operation, status=200) >= done
    )


def test_429_and_server_errors_mid_run_are_waited_out_and_nothing_is_issued_twice(
    tmp_path, monkeypatch
):
    with NotionEmulator(TOKEN, rate=None, seed=12) as emulator:
        for name, value in {**environment(emulator), **FAST}.items():
            monkeypatch.setenv(name, value)
        workspace = build_workspace(emulator, tmp_path)
        invoices = workspace.report.data_sources["invoices"]
        emulator.inject(503, count=2, when=lambda r: r.data_source == invoices)
        emulator.inject(429, count=2, when=after(emulator, "create_page", 8), retry_after=1)
        # A create Notion refused before doing anything (the gateway's 529 page): looked up
        # by its key, not found, sent again.
        emulator.inject(529, count=1, when=after(emulator, "create_page", 12))
        # A create Notion applied whose answer was lost: looked up by its key and found.
        emulator.inject_disconnect(when=after(emulator, "create_page", 16), after_processing=True)
        emulator.inject(429, count=1, when=after(emulator, "update_page", 5), retry_after=1)
        emulator.inject(502, count=1, when=after(emulator, "update_page", 10))

        summary = daily(
            source="notion", as_of=date(2026, 11, 26), out=str(tmp_path / "out"),
            config=str(workspace.config),
        )  # fmt: skip

        assert emulator.count(status=429) == 3 and emulator.count(status=503) == 2
        assert emulator.count(status=529) == 1 and emulator.count(status=502) == 1
        lookups = [r for r in emulator.requests if r.operation == "query" and r.body.get("filter")]
        assert len(lookups) == 2
        assert_matches(RUN_1, workspace.named(summary))
        ledger = workspace.ledger()
        keys = [r["Clé"] for table in LEDGER_TABLES for r in ledger[table]]
        assert len(keys) == len(set(keys)) == len(summary["documents"])
        assert {r["Statut"] for table in LEDGER_TABLES for r in ledger[table]} == {"sent"}
        again = daily(
            source="notion", as_of=date(2026, 11, 26), out=str(tmp_path / "out"),
            config=str(workspace.config),
        )  # fmt: skip
        assert again["documents"] == []


def test_targeted_notion_mission_run_reads_only_what_it_needs(tmp_path, monkeypatch):
    with NotionEmulator(TOKEN, rate=None, seed=13) as emulator:
        for name, value in {**environment(emulator), **FAST}.items():
            monkeypatch.setenv(name, value)
        workspace = build_workspace(emulator, tmp_path)
        summary = targeted(
            kind="mission", record=workspace.page_id("missions", MISSION), source="notion",
            as_of=date(2026, 11, 26), out=str(tmp_path / "out"), config=str(workspace.config),
        )  # fmt: skip
        assert [(d["kind"], d["mission"], d["amount"]) for d in summary["documents"]] == [
            ("payout_mid", MISSION, "750.00")
        ]
        # The mission's page (1), the three members it links to — Aïcha Benali, Hugo Lambert,
        # Théo Garnier — one page each (3), none with a sponsor outside them; Versements and
        # Courriers filtered on the mission's keys (2); one claim and one mark (2).
        assert operations(emulator) == {
            "retrieve_page": 4, "query": 2, "create_page": 1, "update_page": 1,
        }  # fmt: skip
        (row,) = workspace.ledger()["Versements"]
        assert row["Statut"] == "sent" and row["Clé"].startswith("payout_mid:")


def test_cae_notion_init_builds_the_databases_from_nothing(tmp_path, monkeypatch, capsys):
    from cae.cli import main

    with NotionEmulator(TOKEN, rate=None, seed=14) as emulator:
        for name, value in {**environment(emulator), **FAST}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.chdir(tmp_path)
        parent = emulator.create_page_parent("Coopérative")
        assert main(["notion", "init", "--parent", parent]) == 0
        printed = capsys.readouterr().out
        assert "Bases créées : Membres, Missions" in printed
        ids = tomllib.loads(printed.split("À copier dans cae.toml :", 1)[1])["notion"]
        assert set(ids["databases"]) == set(ids["data_sources"]) == set(NOTION_TABLES)
        # 9 databases, then one update per database with relations: Membres (sponsor),
        # Missions, Factures, Présences, Bénévolat, Versements, Courriers.
        assert operations(emulator) == {"create_database": 9, "update_data_source": 7}

        sources = ids["data_sources"]
        missions = emulator.data_source(sources["missions"])["properties"]
        assert missions["Mission"]["type"] == "title"
        assert [o["name"] for o in missions["Étape"]["select"]["options"]] == [
            "Devis", "Signée", "En développement", "Mi-parcours", "Livrée", "Annulée",
        ]  # fmt: skip
        assert missions["Porteur·euse"]["relation"]["data_source_id"] == sources["members"]
        assert missions["CA HT"]["number"]["format"] == "euro"
        attendance = emulator.data_source(sources["attendance"])["properties"]
        assert attendance["Intitulé"]["type"] == "title"
        assert attendance["Plénière"]["relation"]["data_source_id"] == sources["plenaries"]
        payouts = emulator.data_source(sources["payouts"])["properties"]
        assert (
            payouts["Clé"]["type"] == "title" and payouts["Taux"]["number"]["format"] == "percent"
        )
        assert payouts["Membre"]["relation"]["data_source_id"] == sources["members"]
        letters = emulator.data_source(sources["letters"])["properties"]
        assert {"Date", "Recommandé", "Détails"} <= set(letters) and "Taux" not in letters

        # Run again with the ids in cae.toml: nothing to create, one read per data source.
        (tmp_path / "cae.toml").write_text(printed.split("À copier dans cae.toml :", 1)[1])
        emulator.reset_counts()
        assert main(["notion", "init"]) == 0
        assert "Bases créées : aucune ; propriétés ajoutées : 0" in capsys.readouterr().out
        assert operations(emulator) == {"retrieve_data_source": 9}

        # And the daily job runs on the empty databases.
        out = tmp_path / "out"
        assert main(["run", "--source", "notion", "--as-of", "2026-11-26", "--out", str(out)]) == 0
        assert "0 document(s) émis" in capsys.readouterr().out
