"""The Notion source and ledger, through the real notion-client against the emulator.

What the end-to-end run on the example does not reach: relations past the 25 a page shows,
values typed in another kind of property, missing databases and properties, ledger details
longer than a rich text object holds, and the throttle on its own.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from charter.model import LedgerStatus
from emulators.notion import INLINE_RELATION_LIMIT, NotionEmulator
from integrations.ledger import LedgerRow
from integrations.notion import NotionClient, NotionSettings, NotionTransport
from integrations.notion_init import init_workspace
from integrations.notion_ledger import NotionLedger
from integrations.notion_properties import cell_value
from integrations.notion_source import NotionSource
from integrations.refusals import SourceRefused
from settings.config import Config
from settings.schema import FieldSpec, FieldType

TOKEN = "secret_CAETEST"
SCHEMA = Config().schema


@pytest.fixture
def emulator():
    with NotionEmulator(TOKEN, rate=None, seed=21) as running:
        yield running


def client_for(emulator: NotionEmulator, **ids: dict[str, str]) -> NotionClient:
    env = {"NOTION_TOKEN": TOKEN, "NOTION_BASE_URL": emulator.url, "CAE_NOTION_RATE": "1000"}
    return NotionClient(NotionSettings.from_environment(ids, env))


def empty_workspace(emulator: NotionEmulator) -> dict[str, dict[str, str]]:
    """``cae notion init`` on a fresh page: the ids it prints, as ``[notion]`` holds them."""
    report = init_workspace(client_for(emulator), SCHEMA, emulator.create_page_parent("CAE"))
    emulator.reset_counts()
    return {"databases": report.databases, "data_sources": report.data_sources}


def title(text: str, kind: str = "title") -> dict:
    return {"type": kind, kind: [{"type": "text", "text": {"content": text}}]}


def test_a_team_of_more_than_25_members_is_read_through_the_property_endpoint(
    emulator, monkeypatch
):
    # Relations go from missions to members in docs/data-model.md: the page that can list more than
    # 25 is a mission's, with a big team.
    ids = empty_workspace(emulator)
    members, missions = ids["data_sources"]["members"], ids["data_sources"]["missions"]
    team = [
        emulator.insert(members, {"Nom": title(f"Membre {i:02}"), "Date d'adhésion": {
            "date": {"start": "2025-01-06"}}})
        for i in range(30)
    ]  # fmt: skip
    emulator.insert(missions, {
        "Mission": title("Chantier collectif"), "Étape": {"select": {"name": "Signée"}},
        "Porteur·euse": {"relation": [{"id": team[0]}]},
        "Équipe": {"relation": [{"id": page_id} for page_id in team]},
    })  # fmt: skip
    monkeypatch.setattr("integrations.notion.RELATION_PAGE_SIZE", 10)

    tables = NotionSource(client_for(emulator, **ids)).read(SCHEMA)

    (mission,) = tables.tables["missions"]
    assert len(team) > INLINE_RELATION_LIMIT
    assert mission.values["team"] == team
    assert mission.values["bearer"] == team[:1]
    # The team, 10 entries a request (30 → 3); nothing else has more than 25.
    assert emulator.count(operation="retrieve_property") == 3
    assert tables.errors == []


@pytest.mark.parametrize(
    ("spec", "prop", "expected"),
    [
        (FieldSpec("revenue", "CA HT", FieldType.CURRENCY), title("12 000,50 €", "rich_text"),
         Decimal("12000.50")),
        (FieldSpec("revenue", "CA HT", FieldType.CURRENCY),
         {"type": "formula", "formula": {"type": "number", "number": 9600}}, Decimal("9600")),
        (FieldSpec("mid_on", "Date de mi-parcours", FieldType.DATE),
         {"type": "date", "date": {"start": "2026-11-10T09:30:00.000+01:00"}}, date(2026, 11, 10)),
        (FieldSpec("joined_on", "Date d'adhésion", FieldType.DATE),
         {"type": "rollup", "rollup": {"type": "date", "date": {"start": "2025-03-01"}}},
         date(2025, 3, 1)),
        (FieldSpec("number", "N°", FieldType.TEXT), {"type": "number", "number": 106}, "106"),
        (FieldSpec("stage", "Étape", FieldType.SELECT),
         {"type": "status", "status": {"name": "Livrée"}}, "Livrée"),
        (FieldSpec("founder", "Membre fondateur·rice", FieldType.CHECKBOX),
         {"type": "checkbox", "checkbox": False}, None),
        (FieldSpec("client", "Client", FieldType.TEXT),
         {"type": "rollup", "rollup": {"type": "array", "array": [title("A"), title("B")]}},
         "A, B"),
        (FieldSpec("email", "Email", FieldType.EMAIL), {"type": "email", "email": None}, None),
    ],
)  # fmt: skip
def test_values_are_read_by_the_rules_of_a_csv_cell(spec, prop, expected):
    assert cell_value(spec, prop) == expected


def test_tables_without_a_database_are_missing_and_a_required_one_not_shared_is_refused(
    emulator,
):
    ids = empty_workspace(emulator)
    ids = {section: {k: v for k, v in t.items() if k != "invoices"} for section, t in ids.items()}
    tables = NotionSource(client_for(emulator, **ids)).read(SCHEMA)
    assert "invoices" in tables.missing_tables and tables.errors == []
    ids["databases"]["members"] = ids["data_sources"]["members"] = "0" * 32  # not shared
    with pytest.raises(SourceRefused, match=r"partagez-la avec l'intégration .*object_not_found"):
        NotionSource(client_for(emulator, **ids)).read(SCHEMA)


def test_a_required_property_missing_from_the_database_leaves_the_table_out(emulator):
    ids = empty_workspace(emulator)
    source = ids["data_sources"]["missions"]
    emulator.add_properties(source, {"Étape": None})
    emulator.insert(source, {"Mission": title("Sans étape")})
    tables = NotionSource(client_for(emulator, **ids)).read(SCHEMA)
    assert "missions" not in tables.tables
    assert [(e.table, e.field) for e in tables.errors] == [("Missions", "Étape")]


def test_without_data_source_ids_each_database_is_asked_once(emulator):
    ids = empty_workspace(emulator)
    client = client_for(emulator, databases=ids["databases"])
    NotionSource(client).read(SCHEMA)
    NotionLedger(client).rows()
    assert emulator.count(operation="retrieve_database") == 9
    assert emulator.count(operation="query") == 9


def test_long_details_are_split_into_rich_text_pieces_and_read_back(emulator):
    ids = empty_workspace(emulator)
    client = client_for(emulator, **ids)
    member = emulator.insert(ids["data_sources"]["members"], {"Nom": title("Alice")})
    details = {"kind": "renewal", "key": "renewal:x", "note": "é" * 4500}
    row = LedgerRow(
        key="renewal:x", kind="renewal", status=LedgerStatus.PENDING,
        issued_on=date(2026, 11, 26), member_id=member, details=details,
    )  # fmt: skip
    assert NotionLedger(client).claim([row]) == ["renewal:x"]
    (page,) = emulator.pages(ids["data_sources"]["letters"])
    assert len(page["properties"]["Détails"]["rich_text"]) == 3  # 4,500+ characters, 2,000 each

    ledger = NotionLedger(client)
    (read,) = ledger.rows()
    assert read.details == details and read.member_id == member
    ledger.mark("renewal:x", LedgerStatus.SENT, document="documents/renewal/x.pdf")
    ledger.mark("renewal:x", LedgerStatus.SENT, document="documents/renewal/x.pdf")
    assert emulator.count(operation="update_page") == 1  # the second mark changes nothing


def creating(key: str):
    return lambda r: (
        r.operation == "create_page"
        and r.body["properties"]["Clé"]["title"][0]["text"]["content"] == key
    )


def test_an_unanswered_create_is_looked_up_by_its_key_before_being_sent_again(emulator):
    ids = empty_workspace(emulator)
    ledger = NotionLedger(client_for(emulator, **ids))
    rows = [
        LedgerRow(key=f"renewal:{n}", kind="renewal", status=LedgerStatus.PENDING,
                  issued_on=date(2026, 11, 26))
        for n in range(2)
    ]  # fmt: skip
    # The first create is applied but its answer lost; the second meets a 500 and is not.
    emulator.inject_disconnect(when=creating("renewal:0"), after_processing=True)
    emulator.inject(500, when=creating("renewal:1"))
    assert ledger.claim(rows) == ["renewal:0", "renewal:1"]
    pages = emulator.pages(ids["data_sources"]["letters"])
    assert sorted(p["properties"]["Clé"]["title"][0]["plain_text"] for p in pages) == [
        "renewal:0", "renewal:1",
    ]  # fmt: skip
    lookups = [r.body["filter"] for r in emulator.requests if "filter" in (r.body or {})]
    assert lookups == [
        {"property": "Clé", "title": {"equals": "renewal:0"}},
        {"property": "Clé", "title": {"equals": "renewal:1"}},
    ]
    assert emulator.count(operation="create_page") == 3  # the second one twice


def test_a_client_faster_than_notion_waits_out_its_429s(emulator):
    ids = empty_workspace(emulator)
    emulator.rate, emulator.burst = 3.0, 3
    emulator.reset_rate_limit()
    env = {"NOTION_TOKEN": TOKEN, "NOTION_BASE_URL": emulator.url, "CAE_NOTION_RATE": "50"}
    client = NotionClient(NotionSettings.from_environment(ids, env))
    for _ in range(3):
        NotionLedger(client).rows()  # 2 queries each
    assert emulator.count(operation="query", status=200) == 6
    assert emulator.count_429() >= 1 and client.transport.rate_limited == emulator.count_429()


def test_the_bucket_is_shared_per_token():
    """Its rate on its own: ``tests/unit/test_pacing.py``."""
    settings = NotionSettings(token="secret_A")

    def pacer(settings: NotionSettings):
        return NotionTransport(settings).pacer

    assert pacer(settings) is pacer(replace(settings, databases={"members": "x"}))
    assert pacer(settings) is not pacer(replace(settings, token="secret_B"))


def test_init_loads_the_example_through_the_same_reader(emulator, tmp_path: Path):
    from settings.defaults import EXAMPLE_DIR

    report = init_workspace(
        client_for(emulator), SCHEMA, emulator.create_page_parent("CAE"), EXAMPLE_DIR
    )
    ids = {"databases": report.databases, "data_sources": report.data_sources}
    tables = NotionSource(client_for(emulator, **ids)).read(SCHEMA)
    sizes = {key: len(records) for key, records in tables.tables.items()}
    assert sizes == {
        "members": 18, "missions": 20, "invoices": 15, "plenaries": 7, "attendance": 106,
        "volunteering": 124, "workshops": 7,
    }  # fmt: skip
    assert report.records_created == sum(sizes.values())
    attendance = tables.tables["attendance"][0]
    assert attendance.primary is None and " – " in attendance.name  # named by its « Intitulé »
