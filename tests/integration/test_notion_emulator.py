"""The Notion emulator, driven by the real notion-client over real HTTP.

Each test pins one behaviour of the real service that the project relies on (API version
2025-09-03): databases holding a data source, queries in pages of 100 with cursors, filters,
25 relations inline and the rest through the property endpoint, schema checks on writes, error
bodies, the rate limit and how notion-client retries it, injected faults, and webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
import requests
from notion_client import APIErrorCode, APIResponseError, Client
from notion_client.client import RetryOptions
from notion_client.errors import RequestTimeoutError, UnknownHTTPResponseError
from notion_client.helpers import collect_paginated_api

from emulators.notion import API_VERSION, ERROR_CODES, NotionEmulator

TOKEN = "secret_TEST"
HEADERS = {
    "Authorization": f"Bearer {TOKEN}",
    "Notion-Version": API_VERSION,
    "Content-Type": "application/json",
}

MEMBERS: dict[str, Any] = {
    "Nom": {"title": {}},
    "Clé": {"rich_text": {}},
    "Email": {"email": {}},
    "Statut": {"select": {"options": [{"name": "Actif·ve"}, {"name": "Sorti·e"}]}},
    "Date d'adhésion": {"date": {}},
    "Fondateur·rice": {"checkbox": {}},
    "Parts": {"number": {"format": "euro"}},
}
MISSIONS: dict[str, Any] = {
    "Mission": {"title": {}},
    "Clé": {"rich_text": {}},
}


def title(text: str) -> dict[str, Any]:
    return {"title": [{"text": {"content": text}}]}


def text(value: str) -> dict[str, Any]:
    return {"rich_text": [{"text": {"content": value}}]}


def plain(page: dict[str, Any], name: str) -> str:
    prop = page["properties"][name]
    return "".join(t["plain_text"] for t in prop[prop["type"]])


@pytest.fixture
def n() -> Iterator[NotionEmulator]:
    with NotionEmulator(token=TOKEN, rate=None, seed=7) as emulator:
        yield emulator


@pytest.fixture
def notion(n: NotionEmulator) -> Iterator[Client]:
    client = Client(auth=TOKEN, base_url=n.url, retry=False)
    yield client
    client.close()


@pytest.fixture
def members(n: NotionEmulator) -> tuple[str, str]:
    """(database id, data source id) of a Membres database with a relation to Missions."""
    parent = n.create_page_parent("CAE")
    database_id, source_id = n.create_database(parent, "Membres", MEMBERS)
    _, missions_id = n.create_database(parent, "Missions", MISSIONS)
    n.add_properties(source_id, {"Missions": {"relation": {"data_source_id": missions_id}}})
    return database_id, source_id


def error_of(call: Any) -> APIResponseError:
    with pytest.raises(APIResponseError) as caught:
        call()
    return caught.value


# ---- errors --------------------------------------------------------------------------------


def test_missing_notion_version_is_a_400_missing_version(n: NotionEmulator) -> None:
    headers = {k: v for k, v in HEADERS.items() if k != "Notion-Version"}
    answer = requests.get(f"{n.url}/v1/users/me", headers=headers, timeout=5)
    assert answer.status_code == 400
    body = answer.json()
    assert set(body) >= {"object", "status", "code", "message"}
    assert body["object"] == "error"
    assert body["status"] == 400
    assert body["code"] == "missing_version"
    assert "Notion-Version" in body["message"]
    with_header = requests.get(f"{n.url}/v1/users/me", headers=HEADERS, timeout=5)
    assert with_header.status_code == 200
    assert with_header.json()["type"] == "bot"


def test_bad_token_is_a_401_unauthorized(n: NotionEmulator) -> None:
    wrong = Client(auth="secret_WRONG", base_url=n.url, retry=False)
    error = error_of(wrong.users.me)
    assert error.status == 401
    assert error.code == APIErrorCode.Unauthorized
    body = json.loads(error.body)
    assert {k: body[k] for k in ("object", "status", "code")} == {
        "object": "error",
        "status": 401,
        "code": "unauthorized",
    }
    assert isinstance(body["message"], str)
    missing = requests.get(
        f"{n.url}/v1/users/me", headers={"Notion-Version": API_VERSION}, timeout=5
    )
    assert missing.status_code == 401
    assert missing.json()["code"] == "unauthorized"


def test_unknown_ids_are_404_object_not_found_and_malformed_ids_400(
    n: NotionEmulator, notion: Client, members: tuple[str, str]
) -> None:
    database_id, source_id = members
    missing = "0f0f0f0f-0000-4000-8000-000000000000"
    for call in (
        lambda: notion.pages.retrieve(page_id=missing),
        lambda: notion.databases.retrieve(database_id=missing),
        lambda: notion.data_sources.query(data_source_id=missing),
    ):
        error = error_of(call)
        assert (error.status, error.code) == (404, APIErrorCode.ObjectNotFound)
        assert missing in str(error)
    # A database id where a data source id is expected: 404, with a hint.
    error = error_of(lambda: notion.data_sources.query(data_source_id=database_id))
    assert error.code == APIErrorCode.ObjectNotFound
    assert "data sources are listed" in str(error)
    malformed = error_of(lambda: notion.pages.retrieve(page_id="not-an-id"))
    assert (malformed.status, malformed.code) == (400, APIErrorCode.ValidationError)
    # Ids are accepted without dashes, as Notion does.
    compact = notion.data_sources.retrieve(data_source_id=source_id.replace("-", ""))
    assert compact["id"] == source_id


def test_undefined_route_and_bad_json_use_notion_codes(n: NotionEmulator) -> None:
    # The pre-2025-09-03 query endpoint is gone.
    gone = requests.post(f"{n.url}/v1/databases/{'0' * 32}/query", headers=HEADERS, timeout=5)
    assert (gone.status_code, gone.json()["code"]) == (400, "invalid_request_url")
    bad = requests.post(f"{n.url}/v1/pages", headers=HEADERS, data=b"{not json", timeout=5)
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_json")
    for answer in (gone, bad):
        assert answer.json()["code"] in ERROR_CODES
        assert answer.json()["object"] == "error"


# ---- databases and data sources ----------------------------------------------------------


def test_database_creation_and_retrieval_list_the_data_source(
    n: NotionEmulator, notion: Client
) -> None:
    parent = n.create_page_parent("CAE")
    created = notion.databases.create(
        parent={"type": "page_id", "page_id": parent},
        title=[{"type": "text", "text": {"content": "Membres"}}],
        initial_data_source={"properties": MEMBERS},
    )
    assert created["object"] == "database"
    assert created["parent"] == {"type": "page_id", "page_id": parent}
    assert len(created["data_sources"]) == 1
    assert created["data_sources"][0]["name"] == "Membres"
    source_id = created["data_sources"][0]["id"]

    retrieved = notion.databases.retrieve(database_id=created["id"])
    assert retrieved["data_sources"] == created["data_sources"]
    assert "properties" not in retrieved  # 2025-09-03: the schema lives on the data source

    source = notion.data_sources.retrieve(data_source_id=source_id)
    assert source["object"] == "data_source"
    assert source["parent"] == {"type": "database_id", "database_id": created["id"]}
    props = source["properties"]
    assert set(props) == set(MEMBERS)
    assert props["Nom"]["id"] == "title"
    for name, prop in props.items():
        assert prop["name"] == name
        assert prop["type"] in prop  # the configuration under the type's key
    assert props["Parts"]["number"] == {"format": "euro"}
    options = props["Statut"]["select"]["options"]
    assert [o["name"] for o in options] == ["Actif·ve", "Sorti·e"]
    assert all(o["id"] and o["color"] for o in options)

    # A relation added once both databases exist.
    missions = notion.databases.create(
        parent={"page_id": parent},
        title=[{"text": {"content": "Missions"}}],
        initial_data_source={"properties": MISSIONS},
    )
    missions_source = missions["data_sources"][0]["id"]
    updated = notion.data_sources.update(
        data_source_id=source_id,
        properties={"Missions": {"relation": {"data_source_id": missions_source}}},
    )
    relation = updated["properties"]["Missions"]
    assert relation["type"] == "relation"
    assert relation["relation"]["data_source_id"] == missions_source
    assert relation["relation"]["database_id"] == missions["id"]
    assert relation["relation"]["type"] == "single_property"
    assert n.count(operation="create_database") == 2
    assert n.count(operation="update_data_source", data_source=source_id) == 1


def test_database_needs_exactly_one_title_property(n: NotionEmulator, notion: Client) -> None:
    parent = n.create_page_parent("CAE")
    error = error_of(
        lambda: notion.databases.create(
            parent={"page_id": parent},
            title=[{"text": {"content": "Sans titre"}}],
            initial_data_source={"properties": {"Clé": {"rich_text": {}}}},
        )
    )
    assert (error.status, error.code) == (400, APIErrorCode.ValidationError)
    assert "title" in str(error)


def test_data_source_update_renames_removes_and_checks_names(
    n: NotionEmulator, notion: Client, members: tuple[str, str]
) -> None:
    _, source_id = members
    page_id = n.insert(source_id, {"Nom": title("Camille"), "Email": {"email": "c@example.org"}})
    email_id = n.property_id(source_id, "Email")
    updated = notion.data_sources.update(
        data_source_id=source_id,
        properties={"Email": {"name": "Courriel"}, "Parts": None, "Notes": {"rich_text": {}}},
    )
    props = updated["properties"]
    assert "Parts" not in props and "Email" not in props
    assert props["Courriel"]["id"] == email_id  # a rename keeps the id
    assert props["Notes"]["type"] == "rich_text"
    page = notion.pages.retrieve(page_id=page_id)
    assert page["properties"]["Courriel"]["email"] == "c@example.org"
    assert "Parts" not in page["properties"]
    error = error_of(
        lambda: notion.data_sources.update(data_source_id=source_id, properties={"Absente": None})
    )
    assert "Absente is not a property that exists." in str(error)
    error = error_of(
        lambda: notion.data_sources.update(
            data_source_id=source_id, properties={"Total": {"formula": {"expression": "1"}}}
        )
    )
    assert error.code == APIErrorCode.ValidationError  # formulas are not emulated: said so


def test_concurrent_writes_are_all_kept(
    n: NotionEmulator, notion: Client, members: tuple[str, str]
) -> None:
    _, source_id = members

    def create(i: int) -> None:
        client = Client(auth=TOKEN, base_url=n.url, retry=False)
        for j in range(5):
            client.pages.create(
                parent={"data_source_id": source_id},
                properties={"Nom": title(f"T{i}-{j}"), "Statut": {"select": {"name": f"S{i}"}}},
            )

    threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(n.pages(source_id)) == 40
    assert n.count(operation="create_page", status=200) == 40
    options = n.data_source(source_id)["properties"]["Statut"]["select"]["options"]
    assert [o["name"] for o in options[:2]] == ["Actif·ve", "Sorti·e"]
    assert sorted(o["name"] for o in options[2:]) == [f"S{i}" for i in range(8)]


# ---- query -------------------------------------------------------------------------------


def test_query_pages_through_250_pages_in_3_requests(
    n: NotionEmulator, notion: Client, members: tuple[str, str]
) -> None:
    _, source_id = members
    for i in range(250):
        n.insert(source_id, {"Nom": title(f"Membre {i}"), "Clé": text(f"M{i:03d}")})
    seen: list[str] = []
    sizes = []
    cursor = None
    while True:
        answer = notion.data_sources.query(data_source_id=source_id, start_cursor=cursor)
        assert answer["object"] == "list"
        assert answer["type"] == "page_or_data_source"
        sizes.append(len(answer["results"]))
        seen += [p["id"] for p in answer["results"]]
        if not answer["has_more"]:
            assert answer["next_cursor"] is None
            break
        cursor = answer["next_cursor"]
        assert isinstance(cursor, str)
    assert sizes == [100, 100, 50]
    assert len(set(seen)) == 250
    assert n.count(operation="query", data_source=source_id) == 3
    assert [r.result_count for r in n.requests] == [100, 100, 50]
    # The first request carries no start_cursor; the next ones carry the previous next_cursor.
    bodies = [r.body for r in n.requests]
    assert "start_cursor" not in bodies[0]
    assert bodies[1]["start_cursor"] and bodies[2]["start_cursor"]

    n.reset_counts()
    everything = collect_paginated_api(
        notion.data_sources.query, data_source_id=source_id, page_size=100
    )
    assert len(everything) == 250
    assert n.count(operation="query") == 3


def test_query_page_size_over_100_and_bad_cursor_are_validation_errors(
    notion: Client, members: tuple[str, str]
) -> None:
    _, source_id = members
    error = error_of(lambda: notion.data_sources.query(data_source_id=source_id, page_size=101))
    assert (error.status, error.code) == (400, APIErrorCode.ValidationError)
    assert "page_size" in str(error)
    error = error_of(
        lambda: notion.data_sources.query(data_source_id=source_id, start_cursor="nope")
    )
    assert error.code == APIErrorCode.ValidationError


@pytest.fixture
def crowd(n: NotionEmulator, members: tuple[str, str]) -> dict[str, str]:
    _, source_id = members
    missions_id = n.data_source(source_id)["properties"]["Missions"]["relation"]["data_source_id"]
    m1 = n.insert(missions_id, {"Mission": title("Atelier"), "Clé": text("MI-1")})
    m2 = n.insert(missions_id, {"Mission": title("Formation"), "Clé": text("MI-2")})
    rows = {
        "camille": {
            "Nom": title("Camille"),
            "Clé": text("M-001"),
            "Statut": {"select": {"name": "Actif·ve"}},
            "Fondateur·rice": {"checkbox": True},
            "Date d'adhésion": {"date": {"start": "2021-03-01"}},
            "Missions": {"relation": [{"id": m1}]},
        },
        "dominique": {
            "Nom": title("Dominique"),
            "Clé": text("M-002"),
            "Statut": {"select": {"name": "Sorti·e"}},
            "Date d'adhésion": {"date": {"start": "2023-06-15"}},
            "Missions": {"relation": [{"id": m1}, {"id": m2}]},
        },
        "sacha": {
            "Nom": title("Sacha"),
            "Clé": text("M-003"),
            "Statut": {"select": {"name": "Actif·ve"}},
            "Date d'adhésion": {"date": {"start": "2024-01-10T09:30:00+01:00"}},
        },
    }
    ids = {name: n.insert(source_id, props) for name, props in rows.items()}
    ids.update(source=source_id, m1=m1, m2=m2)
    return ids


def names(answer: dict[str, Any]) -> set[str]:
    return {plain(p, "Nom") for p in answer["results"]}


def test_filters_on_title_and_rich_text_equals(notion: Client, crowd: dict[str, str]) -> None:
    source = crowd["source"]
    by_key = notion.data_sources.query(
        data_source_id=source, filter={"property": "Clé", "rich_text": {"equals": "M-002"}}
    )
    assert names(by_key) == {"Dominique"}
    by_title = notion.data_sources.query(
        data_source_id=source, filter={"property": "Nom", "title": {"equals": "Sacha"}}
    )
    assert names(by_title) == {"Sacha"}
    # The rich_text condition applies to a title property too.
    as_text = notion.data_sources.query(
        data_source_id=source, filter={"property": "Nom", "rich_text": {"contains": "cam"}}
    )
    assert names(as_text) == {"Camille"}
    nothing = notion.data_sources.query(
        data_source_id=source, filter={"property": "Clé", "rich_text": {"equals": "M-00"}}
    )
    assert nothing["results"] == []
    assert nothing["has_more"] is False


def test_filters_on_select_checkbox_date_and_compounds(
    notion: Client, crowd: dict[str, str]
) -> None:
    source = crowd["source"]

    def query(spec: dict[str, Any]) -> set[str]:
        return names(notion.data_sources.query(data_source_id=source, filter=spec))

    assert query({"property": "Statut", "select": {"equals": "Actif·ve"}}) == {"Camille", "Sacha"}
    assert query({"property": "Fondateur·rice", "checkbox": {"equals": True}}) == {"Camille"}
    assert query({"property": "Fondateur·rice", "checkbox": {"equals": False}}) == {
        "Dominique",
        "Sacha",
    }
    assert query({"property": "Date d'adhésion", "date": {"before": "2023-01-01"}}) == {"Camille"}
    assert query({"property": "Date d'adhésion", "date": {"after": "2023-06-15"}}) == {"Sacha"}
    assert query({"property": "Date d'adhésion", "date": {"on_or_after": "2023-06-15"}}) == {
        "Dominique",
        "Sacha",
    }
    either = {
        "or": [
            {"property": "Clé", "rich_text": {"equals": "M-001"}},
            {"property": "Clé", "rich_text": {"equals": "M-003"}},
        ]
    }
    assert query(either) == {"Camille", "Sacha"}
    both = {
        "and": [
            {"property": "Statut", "select": {"equals": "Actif·ve"}},
            {"property": "Fondateur·rice", "checkbox": {"equals": False}},
        ]
    }
    assert query(both) == {"Sacha"}
    nested = {"and": [either, {"property": "Fondateur·rice", "checkbox": {"equals": True}}]}
    assert query(nested) == {"Camille"}


def test_filter_on_relation_contains(notion: Client, crowd: dict[str, str]) -> None:
    answer = notion.data_sources.query(
        data_source_id=crowd["source"],
        filter={"property": "Missions", "relation": {"contains": crowd["m2"]}},
    )
    assert names(answer) == {"Dominique"}
    answer = notion.data_sources.query(
        data_source_id=crowd["source"],
        filter={"property": "Missions", "relation": {"contains": crowd["m1"]}},
    )
    assert names(answer) == {"Camille", "Dominique"}


def test_bad_filters_are_validation_errors(notion: Client, crowd: dict[str, str]) -> None:
    source = crowd["source"]
    unknown = error_of(
        lambda: notion.data_sources.query(
            data_source_id=source, filter={"property": "Inconnue", "rich_text": {"equals": "x"}}
        )
    )
    assert unknown.code == APIErrorCode.ValidationError
    assert "Inconnue" in str(unknown)
    mismatch = error_of(
        lambda: notion.data_sources.query(
            data_source_id=source, filter={"property": "Statut", "checkbox": {"equals": True}}
        )
    )
    assert mismatch.code == APIErrorCode.ValidationError


def test_sorts_and_filter_properties(
    n: NotionEmulator, notion: Client, crowd: dict[str, str]
) -> None:
    source = crowd["source"]
    answer = notion.data_sources.query(
        data_source_id=source, sorts=[{"property": "Clé", "direction": "descending"}]
    )
    assert [plain(p, "Clé") for p in answer["results"]] == ["M-003", "M-002", "M-001"]
    key_id = n.property_id(source, "Clé")
    slim = notion.data_sources.query(data_source_id=source, filter_properties=[key_id])
    assert all(set(p["properties"]) == {"Clé"} for p in slim["results"])


def test_timestamps_are_whole_minutes_and_follow_staff_edits(
    n: NotionEmulator, notion: Client, crowd: dict[str, str]
) -> None:
    page = notion.pages.retrieve(page_id=crowd["camille"])
    assert page["last_edited_time"].endswith(":00.000Z")
    before = datetime.fromisoformat(page["last_edited_time"].replace("Z", "+00:00"))
    n.advance(180)
    n.update(crowd["camille"], {"Statut": {"select": {"name": "Sorti·e"}}})
    after = notion.pages.retrieve(page_id=crowd["camille"])
    assert after["properties"]["Statut"]["select"]["name"] == "Sorti·e"
    moved = datetime.fromisoformat(after["last_edited_time"].replace("Z", "+00:00"))
    assert (moved - before).total_seconds() >= 120
    recent = notion.data_sources.query(
        data_source_id=crowd["source"],
        filter={
            "timestamp": "last_edited_time",
            "last_edited_time": {"after": page["last_edited_time"]},
        },
    )
    assert names(recent) == {"Camille"}


# ---- relations ---------------------------------------------------------------------------


def test_page_with_30_relations_shows_25_inline_and_all_30_through_the_property_endpoint(
    n: NotionEmulator, notion: Client, members: tuple[str, str]
) -> None:
    _, source_id = members
    missions_id = n.data_source(source_id)["properties"]["Missions"]["relation"]["data_source_id"]
    missions = [n.insert(missions_id, {"Mission": title(f"Mission {i}")}) for i in range(30)]
    page_id = n.insert(
        source_id,
        {"Nom": title("Camille"), "Missions": {"relation": [{"id": m} for m in missions]}},
    )
    page = notion.pages.retrieve(page_id=page_id)
    inline = page["properties"]["Missions"]
    assert len(inline["relation"]) == 25
    assert inline["has_more"] is True
    assert [r["id"] for r in inline["relation"]] == missions[:25]

    everything = notion.pages.properties.retrieve(page_id=page_id, property_id=inline["id"])
    assert everything["object"] == "list"
    assert everything["type"] == "property_item"
    assert everything["property_item"]["type"] == "relation"
    assert everything["has_more"] is False
    assert [r["relation"]["id"] for r in everything["results"]] == missions
    assert all(
        r["object"] == "property_item" and r["type"] == "relation" for r in everything["results"]
    )

    # In pages of 10, following next_cursor.
    collected: list[str] = []
    cursor = None
    calls = 0
    while True:
        chunk = notion.pages.properties.retrieve(
            page_id=page_id, property_id=inline["id"], page_size=10, start_cursor=cursor
        )
        calls += 1
        collected += [r["relation"]["id"] for r in chunk["results"]]
        if not chunk["has_more"]:
            break
        cursor = chunk["next_cursor"]
    assert collected == missions
    assert calls == 3
    assert n.count(operation="retrieve_property", page=page_id) == 4
    # The helper shows relations in full.
    assert len(n.page(page_id)["properties"]["Missions"]["relation"]) == 30
    queried = notion.data_sources.query(data_source_id=source_id)["results"][0]
    assert queried["properties"]["Missions"]["has_more"] is True


# ---- pages: create and update ------------------------------------------------------------


def test_page_create_and_update_round_trip(
    n: NotionEmulator, notion: Client, members: tuple[str, str]
) -> None:
    database_id, source_id = members
    created = notion.pages.create(
        parent={"type": "data_source_id", "data_source_id": source_id},
        properties={
            "Nom": title("Camille Martin"),
            "Clé": text("M-001"),
            "Email": {"email": "camille@example.org"},
            "Statut": {"select": {"name": "Actif·ve"}},
            "Date d'adhésion": {"date": {"start": "2021-03-01"}},
            "Fondateur·rice": {"checkbox": True},
            "Parts": {"number": 12.5},
        },
    )
    assert created["object"] == "page"
    assert created["parent"] == {
        "type": "data_source_id",
        "data_source_id": source_id,
        "database_id": database_id,
    }
    props = created["properties"]
    assert props["Nom"]["title"][0] == {
        "type": "text",
        "text": {"content": "Camille Martin", "link": None},
        "annotations": props["Nom"]["title"][0]["annotations"],
        "plain_text": "Camille Martin",
        "href": None,
    }
    assert props["Email"]["email"] == "camille@example.org"
    assert props["Statut"]["select"]["name"] == "Actif·ve"
    assert props["Date d'adhésion"]["date"] == {
        "start": "2021-03-01",
        "end": None,
        "time_zone": None,
    }
    assert props["Fondateur·rice"]["checkbox"] is True
    assert props["Parts"]["number"] == 12.5
    assert props["Missions"] == {
        "id": props["Missions"]["id"],
        "type": "relation",
        "relation": [],
        "has_more": False,
    }

    # An unknown select option is created, as Notion does.
    updated = notion.pages.update(
        page_id=created["id"],
        properties={"Statut": {"select": {"name": "En pause"}}, "Parts": {"number": None}},
    )
    assert updated["properties"]["Statut"]["select"]["name"] == "En pause"
    assert updated["properties"]["Parts"]["number"] is None
    options = n.data_source(source_id)["properties"]["Statut"]["select"]["options"]
    assert [o["name"] for o in options] == ["Actif·ve", "Sorti·e", "En pause"]

    # Through the database id as parent, for a database with one data source.
    via_database = notion.pages.create(
        parent={"database_id": database_id}, properties={"Nom": title("Dominique")}
    )
    assert via_database["parent"]["data_source_id"] == source_id

    # The trash: out of queries, and not editable until restored.
    notion.pages.update(page_id=via_database["id"], in_trash=True)
    remaining = notion.data_sources.query(data_source_id=source_id)["results"]
    assert [p["id"] for p in remaining] == [created["id"]]
    locked = error_of(
        lambda: notion.pages.update(page_id=via_database["id"], properties={"Clé": text("x")})
    )
    assert locked.code == APIErrorCode.ValidationError
    restored = notion.pages.update(page_id=via_database["id"], in_trash=False)
    assert restored["in_trash"] is False
    assert n.count(operation="create_page", data_source=source_id) == 2
    assert n.count(operation="update_page", page=created["id"]) == 1


def test_writes_are_checked_against_the_schema(
    n: NotionEmulator, notion: Client, members: tuple[str, str]
) -> None:
    _, source_id = members
    page_id = n.insert(source_id, {"Nom": title("Camille")})

    def update_error(properties: dict[str, Any]) -> APIResponseError:
        return error_of(lambda: notion.pages.update(page_id=page_id, properties=properties))

    unknown = update_error({"Télphone": {"phone_number": "0102030405"}})
    assert (unknown.status, unknown.code) == (400, APIErrorCode.ValidationError)
    assert "Télphone is not a property that exists." in str(unknown)
    wrong_type = update_error({"Nom": text("Camille")})
    assert "Nom is expected to be title." in str(wrong_type)
    assert "Parts" in str(update_error({"Parts": {"number": "12"}}))
    assert "Fondateur·rice" in str(update_error({"Fondateur·rice": {"checkbox": "yes"}}))
    assert "start" in str(update_error({"Date d'adhésion": {"date": {"start": "01/03/2021"}}}))
    too_long = update_error({"Clé": text("x" * 2001)})
    assert "2000" in str(too_long)
    missing_page = update_error({"Missions": {"relation": [{"id": page_id}]}})
    assert missing_page.code == APIErrorCode.ValidationError
    created = error_of(
        lambda: notion.pages.create(
            parent={"data_source_id": source_id}, properties={"Inconnue": text("x")}
        )
    )
    assert "Inconnue is not a property that exists." in str(created)
    # Nothing was applied.
    assert plain(n.page(page_id), "Nom") == "Camille"
    assert len(n.pages(source_id)) == 1


# ---- rate limit, retries, faults ---------------------------------------------------------


def test_rate_limit_answers_429_with_retry_after_and_refills(n: NotionEmulator) -> None:
    n.rate, n.burst = 10.0, 3
    n.reset_rate_limit()
    client = Client(auth=TOKEN, base_url=n.url, retry=False)
    for _ in range(3):
        client.users.me()
    error = error_of(client.users.me)
    assert (error.status, error.code) == (429, APIErrorCode.RateLimited)
    assert error.headers["retry-after"] == "1"
    assert json.loads(error.body)["object"] == "error"
    assert n.count_429() == 1
    time.sleep(0.15)  # one token back at 10 a second
    client.users.me()
    assert n.count(status=200) == 4


def test_notion_client_retries_a_429_after_retry_after_by_default(n: NotionEmulator) -> None:
    n.rate, n.burst, n.retry_after = 3.0, 3, 1
    n.reset_rate_limit()
    client = Client(auth=TOKEN, base_url=n.url)  # default RetryOptions: 2 retries
    started = time.monotonic()
    for _ in range(4):
        client.users.me()
    elapsed = time.monotonic() - started
    assert n.count_429() == 1
    assert n.count(status=200) == 4
    assert elapsed >= 1.0  # it waited Retry-After before the retry


def test_notion_client_gives_up_after_two_retries(
    n: NotionEmulator, members: tuple[str, str]
) -> None:
    _, source_id = members
    n.inject(429, count=5, retry_after=0)
    client = Client(auth=TOKEN, base_url=n.url)
    error = error_of(lambda: client.data_sources.query(data_source_id=source_id))
    assert error.code == APIErrorCode.RateLimited
    assert n.count(operation="query") == 3  # the request and 2 retries, POST included
    n.clear_faults()
    tuned = Client(auth=TOKEN, base_url=n.url, retry=RetryOptions(max_retries=0))
    n.inject(429, retry_after=0)
    error_of(lambda: tuned.data_sources.query(data_source_id=source_id))
    assert n.count(operation="query") == 4


def test_injected_503_is_retried_for_get_only(n: NotionEmulator, members: tuple[str, str]) -> None:
    _, source_id = members
    client = Client(auth=TOKEN, base_url=n.url)
    n.inject(503, count=1, when=lambda r: r.operation == "query", retry_after=0)
    error = error_of(lambda: client.data_sources.query(data_source_id=source_id))
    assert (error.status, error.code) == (503, APIErrorCode.ServiceUnavailable)
    assert n.count(operation="query") == 1  # POST: not retried
    n.inject(503, count=1, when=lambda r: r.operation == "retrieve_data_source", retry_after=0)
    source = client.data_sources.retrieve(data_source_id=source_id)
    assert source["id"] == source_id
    assert n.count(operation="retrieve_data_source", status=503) == 1
    assert n.count(operation="retrieve_data_source", status=200) == 1


def test_injected_502_500_and_unknown_503_codes(
    n: NotionEmulator, members: tuple[str, str]
) -> None:
    _, source_id = members
    client = Client(auth=TOKEN, base_url=n.url)
    n.inject(502)
    with pytest.raises(UnknownHTTPResponseError) as caught:
        client.data_sources.retrieve(data_source_id=source_id)
    assert caught.value.status == 502
    assert n.count(status=502) == 1  # an HTML 502 is not retried, even for GET
    n.inject(500, retry_after=0)
    client.data_sources.retrieve(data_source_id=source_id)
    assert n.count(status=500) == 1
    # A 503 whose code notion-client does not know is not retried either.
    n.inject(503, code="database_connection_unavailable", retry_after=0)
    with pytest.raises(UnknownHTTPResponseError) as caught:
        client.data_sources.retrieve(data_source_id=source_id)
    assert json.loads(caught.value.body)["code"] == "database_connection_unavailable"
    assert n.count(status=503) == 1


def test_injected_delay_and_disconnect(n: NotionEmulator, members: tuple[str, str]) -> None:
    _, source_id = members
    client = Client(auth=TOKEN, base_url=n.url, timeout_ms=200)
    n.inject_delay(0.5)
    with pytest.raises(RequestTimeoutError):
        client.data_sources.retrieve(data_source_id=source_id)
    n.inject_disconnect()
    with pytest.raises(httpx.HTTPError):
        Client(auth=TOKEN, base_url=n.url).data_sources.retrieve(data_source_id=source_id)
    assert [r.status for r in n.requests] == [200, None]


# ---- webhooks ----------------------------------------------------------------------------


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((dict(self.headers), body))  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


@pytest.fixture
def receiver() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhook_verification_then_signed_event(
    n: NotionEmulator, receiver: ThreadingHTTPServer, crowd: dict[str, str]
) -> None:
    url = f"http://127.0.0.1:{receiver.server_address[1]}/notion"
    token = n.webhook_verification(url)
    headers, body = receiver.received[0]  # type: ignore[attr-defined]
    assert json.loads(body) == {"verification_token": token}
    assert "X-Notion-Signature" not in headers

    status_id = n.property_id(crowd["source"], "Statut")
    event = n.page_event(crowd["camille"], updated_properties=[status_id])
    assert n.send_event(url, token, event) == 200
    headers, body = receiver.received[1]  # type: ignore[attr-defined]
    expected = "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Notion-Signature"], expected)
    sent = json.loads(body)
    assert sent["type"] == "page.properties_updated"
    assert sent["entity"] == {"id": crowd["camille"], "type": "page"}
    assert sent["data"]["updated_properties"] == [status_id]
    assert sent["data"]["parent"]["data_source_id"] == crowd["source"]
    for key in ("id", "timestamp", "workspace_id", "subscription_id", "integration_id"):
        assert sent[key]
    # Signed with another token, the signature does not match.
    n.send_event(url, "secret_OTHER", event)
    headers, body = receiver.received[2]  # type: ignore[attr-defined]
    assert not hmac.compare_digest(
        headers["X-Notion-Signature"], NotionEmulator.signature(token, body)
    )
    assert [d["status"] for d in n.webhook_deliveries] == [200, 200, 200]
