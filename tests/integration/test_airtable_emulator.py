"""The Airtable emulator, driven by the real pyairtable client over real HTTP.

Each test pins one behaviour of the real service that the project relies on: pages of 100 with
opaque offsets, cells left out when empty, formulas, batches of 10, upserts, type checks, error
bodies, the rate limit and its 30-second penalty, injected faults, the Meta API and webhooks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
from pyairtable import Api, retry_strategy
from pyairtable.formulas import match
from pyairtable.models import WebhookNotification

from emulators.airtable import AirtableEmulator

TOKEN = "patTEST"
BASE = "appTEST"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

MEMBERS_FIELDS: list[dict[str, Any]] = [
    {"name": "Nom", "type": "singleLineText"},
    {"name": "Email", "type": "email"},
    {
        "name": "Rôle",
        "type": "singleSelect",
        "options": {"choices": [{"name": "Entrepreneur·e"}, {"name": "Équipe d'appui"}]},
    },
    {"name": "Date d'adhésion", "type": "date", "options": {"dateFormat": {"name": "iso"}}},
    {
        "name": "Membre fondateur·rice",
        "type": "checkbox",
        "options": {"icon": "check", "color": "greenBright"},
    },
    {
        "name": "Parrain·marraine",
        "type": "multipleRecordLinks",
        "options": {"linkedTableId": "Membres"},
    },
    {
        "name": "Statut",
        "type": "singleSelect",
        "options": {"choices": [{"name": "Actif·ve"}, {"name": "Sorti·e"}, {"name": "Exclu·e"}]},
    },
]
MISSIONS_FIELDS: list[dict[str, Any]] = [
    {"name": "Mission", "type": "singleLineText"},
    {"name": "Équipe", "type": "multipleRecordLinks", "options": {"linkedTableId": "Membres"}},
    {"name": "CA HT", "type": "currency", "options": {"precision": 2, "symbol": "€"}},
    {"name": "Heures", "type": "number", "options": {"precision": 1}},
]
LEDGER_FIELDS: list[dict[str, Any]] = [
    {"name": "Clé", "type": "singleLineText"},
    {"name": "Montant", "type": "currency", "options": {"precision": 2, "symbol": "€"}},
    {
        "name": "Statut",
        "type": "singleSelect",
        "options": {"choices": [{"name": "pending"}, {"name": "sent"}, {"name": "failed"}]},
    },
]


@pytest.fixture
def at() -> Iterator[AirtableEmulator]:
    with AirtableEmulator(token=TOKEN, base_id=BASE, rate_limit=None) as emulator:
        emulator.create_table("Membres", MEMBERS_FIELDS)
        emulator.create_table("Missions", MISSIONS_FIELDS)
        yield emulator


@pytest.fixture
def api(at: AirtableEmulator) -> Api:
    return Api(TOKEN, endpoint_url=at.url, retry_strategy=None, timeout=(2, 5))


def error_of(excinfo: pytest.ExceptionInfo[requests.HTTPError]) -> tuple[int, Any]:
    response = excinfo.value.response
    return response.status_code, response.json()


def field_spec(name: str, kind: str, **options: Any) -> dict[str, Any]:
    """A field as the create-table and create-field calls take it."""
    return {"name": name, "type": kind, "options": options}


def refused(status: int, kind: str, message: str) -> tuple[int, Any]:
    """The status and body Airtable answers an error with."""
    return status, {"error": {"type": kind, "message": message}}


def names(records: list[dict[str, Any]]) -> set[str]:
    return {r["fields"]["Nom"] for r in records}


# ---- reading --------------------------------------------------------------------------------


def test_250_records_come_in_three_pages_of_100_with_opaque_offsets(at, api):
    for i in range(250):
        at.insert("Membres", {"Nom": f"Membre {i:03d}"})

    pages = list(api.table(BASE, "Membres").iterate(page_size=100))

    assert [len(page) for page in pages] == [100, 100, 50]
    assert len({r["id"] for page in pages for r in page}) == 250
    lists = [r for r in at.requests if r.operation == "list"]
    assert len(lists) == 3
    offsets = [r.query.get("offset", [None])[0] for r in lists]
    assert offsets[0] is None
    assert all(o and o.startswith("itr") and "/rec" in o for o in offsets[1:])


def test_the_default_page_is_100_records_and_the_last_page_has_no_offset(at):
    for i in range(200):
        at.insert("Membres", {"Nom": f"M{i}"})
    url = f"{at.url}/v0/{BASE}/Membres"

    first = requests.get(url, headers=AUTH).json()
    last = requests.get(url, headers=AUTH, params={"offset": first["offset"]}).json()

    assert len(first["records"]) == 100
    assert len(last["records"]) == 100
    assert "offset" not in last


def test_a_page_size_over_100_is_refused(api):
    with pytest.raises(requests.HTTPError) as excinfo:
        api.table(BASE, "Membres").all(page_size=101)

    status, body = error_of(excinfo)
    assert status == 422
    assert body["error"]["type"] == "INVALID_REQUEST_UNKNOWN"


def test_a_garbage_offset_is_invalid_and_a_forgotten_one_is_not_available(at):
    for i in range(3):
        at.insert("Membres", {"Nom": f"M{i}"})
    url = f"{at.url}/v0/{BASE}/Membres"
    offset = requests.get(url, headers=AUTH, params={"pageSize": 1}).json()["offset"]

    garbage = requests.get(url, headers=AUTH, params={"offset": "10"})
    at.expire_offsets()
    forgotten = requests.get(url, headers=AUTH, params={"offset": offset})

    assert garbage.status_code == 422
    assert garbage.json() == {
        "error": {"type": "INVALID_OFFSET_VALUE", "message": "The value of offset 10 is invalid"}
    }
    assert forgotten.status_code == 422
    assert forgotten.json() == {"error": {"type": "LIST_RECORDS_ITERATOR_NOT_AVAILABLE"}}


def test_empty_cells_are_left_out_of_fields(at, api):
    at.insert(
        "Membres",
        {"Nom": "Camille", "Email": "", "Membre fondateur·rice": False, "Parrain·marraine": []},
    )

    (record,) = api.table(BASE, "Membres").all()

    assert record["fields"] == {"Nom": "Camille"}
    assert record["id"].startswith("rec") and len(record["id"]) == 17
    assert record["createdTime"].endswith("Z")


def test_fields_restricts_the_cells_returned(at, api):
    at.insert("Membres", {"Nom": "Camille", "Email": "c@example.org", "Statut": "Actif·ve"})

    (record,) = api.table(BASE, "Membres").all(fields=["Nom", "Statut"])

    assert record["fields"] == {"Nom": "Camille", "Statut": "Actif·ve"}


def test_an_unknown_field_in_fields_is_a_422_naming_it(api):
    with pytest.raises(requests.HTTPError) as excinfo:
        api.table(BASE, "Membres").all(fields=["Nom", "Téléphone"])

    assert error_of(excinfo) == refused(
        422, "UNKNOWN_FIELD_NAME", 'Unknown field name: "Téléphone"'
    )


@pytest.fixture
def members(at: AirtableEmulator) -> dict[str, str]:
    alice = at.insert(
        "Membres",
        {
            "Nom": "Alice",
            "Email": "alice@example.org",
            "Statut": "Actif·ve",
            "Date d'adhésion": "2021-03-01",
            "Membre fondateur·rice": True,
        },
    )
    bob = at.insert(
        "Membres",
        {
            "Nom": "Bob",
            "Statut": "Sorti·e",
            "Date d'adhésion": "2024-09-15",
            "Parrain·marraine": [alice],
        },
    )
    camille = at.insert(
        "Membres",
        {
            "Nom": "Camille",
            "Email": "camille@example.org",
            "Statut": "Actif·ve",
            "Date d'adhésion": "2025-01-10",
            "Parrain·marraine": [alice],
        },
    )
    return {"Alice": alice, "Bob": bob, "Camille": camille}


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("{Statut} = 'Actif·ve'", {"Alice", "Camille"}),
        ("{Statut} != 'Actif·ve'", {"Bob"}),
        ("{Membre fondateur·rice}", {"Alice"}),
        ("NOT({Membre fondateur·rice})", {"Bob", "Camille"}),
        ("{Parrain·marraine} = 'Alice'", {"Bob", "Camille"}),
        ("{Email} = BLANK()", {"Bob"}),
        ("AND({Statut} = 'Actif·ve', {Date d'adhésion} > '2024-01-01')", {"Camille"}),
        ("OR(LEN({Nom}) = 3, FIND('mil', {Nom}))", {"Bob", "Camille"}),
        ("IS_BEFORE({Date d'adhésion}, DATETIME_PARSE('2022-01-01'))", {"Alice"}),
        ("{Nom} & '/' & {Statut} = \"Bob/Sorti·e\"", {"Bob"}),
        (match({"Statut": "Actif·ve", "Membre fondateur·rice": False}), {"Camille"}),
    ],
)
def test_filter_by_formula_selects_records(api, members, formula, expected):
    records = api.table(BASE, "Membres").all(formula=formula)

    assert names(records) == expected


def test_record_id_in_a_formula_is_the_record_s_own_id(api, members):
    records = api.table(BASE, "Membres").all(formula=f"RECORD_ID() = '{members['Bob']}'")

    assert names(records) == {"Bob"}


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        ("{Nom} = ", "Invalid formula. Please check your formula text."),
        ("NOPE({Nom})", "Invalid formula. Please check your formula text."),
        ("{Téléphone} = '06'", "Unknown field names: Téléphone"),
    ],
)
def test_an_invalid_formula_is_a_422(api, formula, message):
    with pytest.raises(requests.HTTPError) as excinfo:
        api.table(BASE, "Membres").all(formula=formula)

    status, body = error_of(excinfo)
    assert status == 422
    assert body["error"]["type"] == "INVALID_FILTER_BY_FORMULA"
    assert body["error"]["message"].endswith(message)


def test_sort_and_max_records_shape_the_list(api, members):
    records = api.table(BASE, "Membres").all(sort=["-Date d'adhésion"], max_records=2)

    assert [r["fields"]["Nom"] for r in records] == ["Camille", "Bob"]


def test_a_long_formula_is_sent_to_list_records_by_post(at, api, members):
    decoys = " ".join("x" * 40 for _ in range(400))
    formula = f"OR({{Nom}} = 'Bob', {{Nom}} = '{decoys}')"

    records = api.table(BASE, "Membres").all(formula=formula)

    assert names(records) == {"Bob"}
    assert at.count(method="POST", operation="list") == 1
    too_long = requests.get(
        f"{at.url}/v0/{BASE}/Membres", headers=AUTH, params={"filterByFormula": formula}
    )
    assert too_long.status_code == 414


def test_a_table_is_reached_by_its_id_or_its_url_encoded_name(at, api, members):
    by_id = api.table(BASE, at.table_id("Membres")).all()
    by_name = requests.get(f"{at.url}/v0/{BASE}/Membres", headers=AUTH).json()["records"]

    assert names(by_id) == names(by_name) == {"Alice", "Bob", "Camille"}
    assert {r.path for r in at.requests} == {
        f"/v0/{BASE}/{at.table_id('Membres')}",
        f"/v0/{BASE}/Membres",
    }
    assert at.count(table="Membres") == 2


# ---- writing --------------------------------------------------------------------------------


def test_batch_create_sends_ten_records_a_request(at, api):
    created = api.table(BASE, "Membres").batch_create([{"Nom": f"M{i}"} for i in range(25)])

    assert len(created) == 25
    assert [r.record_count for r in at.requests if r.operation == "create"] == [10, 10, 5]
    assert len(at.records("Membres")) == 25


@pytest.mark.parametrize(
    ("method", "payload", "params"),
    [
        ("POST", {"records": [{"fields": {"Nom": f"M{i}"}} for i in range(11)]}, None),
        ("PATCH", {"records": [{"id": "rec" + "A" * 14, "fields": {}} for _ in range(11)]}, None),
        ("DELETE", None, {"records[]": ["rec" + f"{i:014d}" for i in range(11)]}),
    ],
)
def test_eleven_records_in_one_request_are_refused(at, method, payload, params):
    response = requests.request(
        method, f"{at.url}/v0/{BASE}/Membres", headers=AUTH, json=payload, params=params
    )

    assert response.status_code == 422
    assert response.json()["error"]["type"] == "INVALID_RECORDS"
    assert "up to 10" in response.json()["error"]["message"]
    assert at.records("Membres") == []


def test_batch_update_changes_only_the_cells_it_names(at, api, members):
    table = api.table(BASE, "Membres")

    table.batch_update([{"id": members["Bob"], "fields": {"Statut": "Exclu·e"}}])

    bob = table.get(members["Bob"])["fields"]
    assert bob["Statut"] == "Exclu·e"
    assert bob["Date d'adhésion"] == "2024-09-15"


def test_replace_clears_the_cells_it_leaves_out(api, members):
    table = api.table(BASE, "Membres")

    table.batch_update([{"id": members["Bob"], "fields": {"Nom": "Bob"}}], replace=True)

    assert table.get(members["Bob"])["fields"] == {"Nom": "Bob"}


def test_upsert_updates_matching_keys_and_creates_the_others(at, api):
    at.create_table("Versements", LEDGER_FIELDS)
    first = at.insert("Versements", {"Clé": "k-00", "Statut": "pending"})
    second = at.insert("Versements", {"Clé": "k-01", "Statut": "pending"})
    rows = [{"fields": {"Clé": f"k-{i:02d}", "Statut": "sent", "Montant": 10.5}} for i in range(12)]

    result = api.table(BASE, "Versements").batch_upsert(rows, key_fields=["Clé"])

    assert result["updatedRecords"] == [first, second]
    assert len(result["createdRecords"]) == 10
    assert [r.record_count for r in at.requests if r.operation == "upsert"] == [10, 2]
    stored = at.records("Versements")
    assert len(stored) == 12
    assert {r["fields"]["Statut"] for r in stored} == {"sent"}


def test_upsert_matches_keys_as_they_are_after_changes_deletions_and_bulk_loads(at, api):
    """Upserts find records through an index: it must follow every change to the keys."""
    at.create_table("Versements", LEDGER_FIELDS)
    table = api.table(BASE, "Versements")
    table.batch_upsert([{"fields": {"Clé": "a", "Statut": "pending"}}], key_fields=["Clé"])
    renamed = at.insert("Versements", {"Clé": "b", "Statut": "pending"})
    at.change_record("Versements", renamed, {"Clé": "c"})  # by the staff
    gone = at.insert("Versements", {"Clé": "d", "Statut": "pending"})
    at.delete("Versements", gone)
    (loaded,) = at.insert_many("Versements", [{"Clé": "e", "Statut": "pending"}])
    table.update(loaded, {"Clé": "f"})  # through the API
    rows = [{"fields": {"Clé": key, "Statut": "sent"}} for key in "abcdef"]

    result = table.batch_upsert(rows, key_fields=["Clé"])

    assert len(result["updatedRecords"]) == 3  # a, c, f
    assert renamed in result["updatedRecords"] and loaded in result["updatedRecords"]
    assert len(result["createdRecords"]) == 3  # b, d, e
    keys = sorted(r["fields"]["Clé"] for r in at.records("Versements"))
    assert keys == ["a", "b", "c", "d", "e", "f"]
    with pytest.raises(requests.HTTPError, match="More than one existing record"):
        at.insert("Versements", {"Clé": "a", "Statut": "pending"})
        table.batch_upsert([{"fields": {"Clé": "a"}}], key_fields=["Clé"])


def test_an_unknown_select_option_is_refused_unless_typecast(at, api):
    table = api.table(BASE, "Membres")

    with pytest.raises(requests.HTTPError) as excinfo:
        table.create({"Nom": "Dominique", "Statut": "En pause"})
    table.create({"Nom": "Dominique", "Statut": "En pause"}, typecast=True)

    assert error_of(excinfo) == refused(
        422,
        "INVALID_MULTIPLE_CHOICE_OPTIONS",
        'Insufficient permissions to create new select option ""En pause""',
    )
    statut = api.base(BASE).schema().table("Membres").field("Statut")
    assert [c.name for c in statut.options.choices][-1] == "En pause"
    assert [r["fields"]["Nom"] for r in at.records("Membres")] == ["Dominique"]


def test_a_link_to_a_record_that_does_not_exist_is_refused(api, members):
    with pytest.raises(requests.HTTPError) as excinfo:
        api.table(BASE, "Missions").create({"Mission": "Site", "Équipe": ["recAAAAAAAAAAAAAA"]})

    assert error_of(excinfo) == refused(
        422, "ROW_DOES_NOT_EXIST", "Record ID recAAAAAAAAAAAAAA does not exist"
    )


def test_a_link_given_by_name_is_not_a_record_id(api, members):
    with pytest.raises(requests.HTTPError) as excinfo:
        api.table(BASE, "Missions").create({"Mission": "Site", "Équipe": ["Alice"]})

    assert error_of(excinfo) == refused(
        422, "INVALID_VALUE_FOR_COLUMN", 'Value "Alice" is not a valid record ID.'
    )


@pytest.mark.parametrize(
    ("fields", "error_type"),
    [
        ({"CA HT": "12 000 €"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"CA HT": True}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Heures": "3"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Équipe": "recAAAAAAAAAAAAAA"}, "INVALID_VALUE_FOR_COLUMN"),
        ({"Coûts directs": 100}, "UNKNOWN_FIELD_NAME"),
    ],
)
def test_a_cell_must_fit_its_field_type(at, api, fields, error_type):
    with pytest.raises(requests.HTTPError) as excinfo:
        api.table(BASE, "Missions").batch_create(
            [{"Mission": "Valide"}, {"Mission": "X", **fields}]
        )

    status, body = error_of(excinfo)
    assert (status, body["error"]["type"]) == (422, error_type)
    assert at.records("Missions") == []


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"Date d'adhésion": "26/11/2026"}, 'Field "Date d\'adhésion" cannot accept'),
        ({"Membre fondateur·rice": "oui"}, 'Field "Membre fondateur·rice" cannot accept'),
    ],
)
def test_dates_and_checkboxes_take_only_their_json_form(api, fields, message):
    with pytest.raises(requests.HTTPError) as excinfo:
        api.table(BASE, "Membres").create({"Nom": "X", **fields})

    status, body = error_of(excinfo)
    assert (status, body["error"]["type"]) == (422, "INVALID_VALUE_FOR_COLUMN")
    assert body["error"]["message"].startswith(message)


def test_a_link_shows_on_both_sides_until_the_record_is_deleted(at, api, members):
    missions = api.table(BASE, "Missions")
    mission = missions.create({"Mission": "Site", "Équipe": [members["Alice"], members["Bob"]]})

    alice_during = api.table(BASE, "Membres").get(members["Alice"])["fields"]
    missions.delete(mission["id"])
    alice_after = api.table(BASE, "Membres").get(members["Alice"])["fields"]

    assert alice_during["Missions"] == [mission["id"]]
    assert "Missions" not in alice_after


# ---- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer patWRONG"}])
def test_a_missing_or_wrong_token_is_401(at, headers):
    response = requests.get(f"{at.url}/v0/{BASE}/Membres", headers=headers)

    assert response.status_code == 401
    assert response.json() == {
        "error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}
    }


@pytest.mark.parametrize(
    "path", ["appNOPE/Membres", f"{BASE}/Factures", f"{BASE}/tblAAAAAAAAAAAAAA"]
)
def test_an_unknown_base_or_table_is_403_model_not_found(at, path):
    response = requests.get(f"{at.url}/v0/{path}", headers=AUTH)

    assert response.status_code == 403
    assert response.json()["error"]["type"] == "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND"


def test_an_undefined_route_is_a_bare_404(at):
    response = requests.get(f"{at.url}/v0/{BASE}/Membres/recAAAAAAAAAAAAAA/nope", headers=AUTH)

    assert (response.status_code, response.json()) == (404, {"error": "NOT_FOUND"})


def test_a_missing_record_is_404_and_an_update_of_one_is_422(api):
    table = api.table(BASE, "Membres")

    with pytest.raises(requests.HTTPError) as get_error:
        table.get("recAAAAAAAAAAAAAA")
    with pytest.raises(requests.HTTPError) as update_error:
        table.batch_update([{"id": "recAAAAAAAAAAAAAA", "fields": {"Nom": "X"}}])

    assert error_of(get_error)[0] == 404
    assert error_of(get_error)[1]["error"]["type"] == "MODEL_ID_NOT_FOUND"
    assert error_of(update_error)[0] == 422
    assert error_of(update_error)[1]["error"]["type"] == "ROW_DOES_NOT_EXIST"


# ---- limits and faults ----------------------------------------------------------------------


def test_the_sixth_request_in_a_second_is_429_and_the_base_waits_out_its_penalty():
    with AirtableEmulator(token=TOKEN, base_id=BASE, penalty_seconds=0.5) as at:
        at.add_base("appOTHER")
        at.create_table("Membres", MEMBERS_FIELDS)
        at.create_table("Membres", MEMBERS_FIELDS, base="appOTHER")
        url = f"{at.url}/v0/{BASE}/Membres"

        statuses = [requests.get(url, headers=AUTH).status_code for _ in range(6)]
        during = requests.get(url, headers=AUTH)
        other_base = requests.get(f"{at.url}/v0/appOTHER/Membres", headers=AUTH)
        time.sleep(0.55)
        after = requests.get(url, headers=AUTH)

    assert statuses == [200, 200, 200, 200, 200, 429]
    assert during.status_code == 429
    assert during.json() == {
        "errors": [
            {
                "error": "RATE_LIMIT_REACHED",
                "message": "Rate limit exceeded. Please try again later",
            }
        ]
    }
    assert other_base.status_code == 200
    assert after.status_code == 200
    assert at.count_429() == 2


def test_the_window_slides_so_a_request_a_second_later_is_allowed():
    with AirtableEmulator(token=TOKEN, base_id=BASE, rate_limit=2, penalty_seconds=5) as at:
        at.create_table("Membres", MEMBERS_FIELDS)
        url = f"{at.url}/v0/{BASE}/Membres"
        first = [requests.get(url, headers=AUTH).status_code for _ in range(2)]
        time.sleep(1.05)
        second = [requests.get(url, headers=AUTH).status_code for _ in range(2)]

    assert first + second == [200, 200, 200, 200]


def test_an_injected_503_fails_the_matching_requests_then_clears(at, api):
    at.inject(status=503, count=2, when=lambda r: r.method == "GET")
    table = api.table(BASE, "Membres")

    table.create({"Nom": "Camille"})
    failures = []
    for _ in range(2):
        with pytest.raises(requests.HTTPError) as excinfo:
            table.all()
        failures.append(error_of(excinfo))
    after = table.all()

    assert (
        failures
        == [(503, {"error": {"type": "SERVICE_UNAVAILABLE", "message": "Service unavailable"}})] * 2
    )
    assert names(after) == {"Camille"}
    assert at.count(status=503) == 2


def test_pyairtable_retries_an_injected_503_when_told_to(at):
    at.inject(status=503, count=2)
    retrying = Api(
        TOKEN,
        endpoint_url=at.url,
        retry_strategy=retry_strategy(status_forcelist=(503,), backoff_factor=0.01),
    )

    assert retrying.table(BASE, "Membres").all() == []
    assert [r.status for r in at.requests] == [503, 503, 200]


def test_a_dropped_connection_is_a_connection_error_and_applies_nothing(at, api):
    at.inject_disconnect(count=1)

    with pytest.raises(requests.ConnectionError):
        api.table(BASE, "Membres").create({"Nom": "Camille"})

    assert at.records("Membres") == []
    assert [r.status for r in at.requests] == [None]


def test_a_connection_dropped_after_processing_loses_only_the_answer(at, api):
    at.inject_disconnect(count=1, after_processing=True)

    with pytest.raises(requests.ConnectionError):
        api.table(BASE, "Membres").create({"Nom": "Camille"})

    assert [r["fields"]["Nom"] for r in at.records("Membres")] == ["Camille"]


def test_a_slow_answer_times_the_client_out_though_the_write_happened(at):
    at.inject_delay(0.6, count=1)
    impatient = Api(TOKEN, endpoint_url=at.url, retry_strategy=None, timeout=(1, 0.2))

    with pytest.raises(requests.Timeout):
        impatient.table(BASE, "Membres").create({"Nom": "Camille"})

    assert len(at.records("Membres")) == 1


# ---- meta API -------------------------------------------------------------------------------


def test_meta_api_creates_tables_and_fields_that_the_schema_lists(at, api):
    base = api.base(BASE)
    members_id = at.table_id("Membres")

    table = base.create_table(
        "Courriers",
        [
            {"name": "Clé", "type": "singleLineText"},
            {"name": "Texte", "type": "multilineText"},
            {"name": "Email", "type": "email"},
            {"name": "Type", "type": "singleSelect", "options": {"choices": [{"name": "renewal"}]}},
            {"name": "Émis le", "type": "date", "options": {"dateFormat": {"name": "iso"}}},
            field_spec("Recommandé", "checkbox", icon="check", color="grayBright"),
            field_spec("Membre", "multipleRecordLinks", linkedTableId=members_id),
            {"name": "Montant", "type": "currency", "options": {"precision": 2, "symbol": "€"}},
            {"name": "Heures", "type": "number", "options": {"precision": 1}},
            {"name": "Taux", "type": "percent", "options": {"precision": 1}},
        ],
        description="Un document par ligne",
    )
    table.create_field("Posté le", "date", options={"dateFormat": {"name": "european"}})
    schema = api.base(BASE).schema()

    courriers = schema.table("Courriers")
    assert courriers.primary_field_id == courriers.field("Clé").id
    assert [f.type for f in courriers.fields] == [
        "singleLineText",
        "multilineText",
        "email",
        "singleSelect",
        "date",
        "checkbox",
        "multipleRecordLinks",
        "currency",
        "number",
        "percent",
        "date",
    ]
    assert courriers.field("Type").options.choices[0].id.startswith("sel")
    assert courriers.field("Émis le").options.date_format.format == "YYYY-MM-DD"
    assert courriers.field("Posté le").options.date_format.format == "D/M/YYYY"
    inverse = schema.table("Membres").field("Courriers")
    assert inverse.options.inverse_link_field_id == courriers.field("Membre").id
    assert [v.name for v in courriers.views] == ["Grid view"]


@pytest.mark.parametrize(
    ("path", "payload", "error_type"),
    [
        (
            "tables",
            {"name": "Membres", "fields": [{"name": "Nom", "type": "singleLineText"}]},
            "DUPLICATE_TABLE_NAME",
        ),
        (
            "tables/Membres/fields",
            {"name": "Nom", "type": "singleLineText"},
            "DUPLICATE_OR_EMPTY_FIELD_NAME",
        ),
        (
            "tables/Membres/fields",
            {"name": "Fait", "type": "checkbox"},
            "INVALID_FIELD_TYPE_OPTIONS_FOR_CREATE",
        ),
        (
            "tables/Membres/fields",
            {"name": "Total", "type": "formula"},
            "UNSUPPORTED_FIELD_TYPE_FOR_CREATE",
        ),
    ],
)
def test_meta_api_refuses_duplicates_and_incomplete_fields(at, path, payload, error_type):
    response = requests.post(f"{at.url}/v0/meta/bases/{BASE}/{path}", headers=AUTH, json=payload)

    assert response.status_code == 422
    assert response.json()["error"]["type"] == error_type


# ---- webhooks -------------------------------------------------------------------------------

SPEC = {"options": {"filters": {"dataTypes": ["tableData"]}}}


def test_webhook_payloads_record_each_change_and_follow_the_cursor(at, api, members):
    base = api.base(BASE)
    created = base.add_webhook("https://example.invalid/hook", SPEC)
    webhook = base.webhook(created.id)
    table = api.table(BASE, "Membres")

    dominique = table.create({"Nom": "Dominique", "Statut": "Actif·ve"})
    table.update(members["Bob"], {"Statut": "Exclu·e"})
    at.change_record("Membres", members["Alice"], {"Email": "alice@coop.example"})
    payloads = list(webhook.payloads(cursor=1))

    members_id = at.table_id("Membres")
    statut = at.field_id("Membres", "Statut")
    assert [p.cursor for p in payloads] == [1, 2, 3]
    assert [p.action_metadata.source for p in payloads] == ["publicApi", "publicApi", "client"]
    added = payloads[0].changed_tables_by_id[members_id].created_records_by_id[dominique["id"]]
    assert added.cell_values_by_field_id[statut]["name"] == "Actif·ve"
    changed = payloads[1].changed_tables_by_id[members_id].changed_records_by_id[members["Bob"]]
    (cell,) = changed.current.cell_values_by_field_id.items()
    assert cell[0] == statut
    assert cell[1]["name"] == "Exclu·e" and cell[1]["id"].startswith("sel")
    assert [p.cursor for p in webhook.payloads(cursor=3)] == [3]
    assert base.webhook(created.id).cursor_for_next_payload == 4


def test_webhook_payloads_come_50_a_page(at, members):
    hook = requests.post(
        f"{at.url}/v0/bases/{BASE}/webhooks", headers=AUTH, json={"specification": SPEC}
    ).json()
    for i in range(60):
        at.change_record("Membres", members["Bob"], {"Email": f"bob{i}@example.org"})
    url = f"{at.url}/v0/bases/{BASE}/webhooks/{hook['id']}/payloads"

    first = requests.get(url, headers=AUTH, params={"cursor": 1}).json()
    second = requests.get(url, headers=AUTH, params={"cursor": first["cursor"]}).json()

    assert (len(first["payloads"]), first["cursor"], first["mightHaveMore"]) == (50, 51, True)
    assert (len(second["payloads"]), second["cursor"], second["mightHaveMore"]) == (10, 61, False)


def test_webhook_refresh_pushes_the_expiration_back(at, api):
    created = api.base(BASE).add_webhook("https://example.invalid/hook", SPEC)
    time.sleep(0.01)

    refreshed = requests.post(
        f"{at.url}/v0/bases/{BASE}/webhooks/{created.id}/refresh", headers=AUTH
    ).json()

    expiration = datetime.fromisoformat(refreshed["expirationTime"].replace("Z", "+00:00"))
    assert expiration > created.expiration_time


class _Receiver(BaseHTTPRequestHandler):
    received: list[tuple[bytes, str]] = []

    def do_POST(self) -> None:  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((body, self.headers["X-Airtable-Content-MAC"]))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return


def test_a_ping_is_signed_with_the_webhook_secret(at, api):
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    _Receiver.received = []
    threading.Thread(target=receiver.serve_forever, args=(0.02,), daemon=True).start()
    try:
        url = f"http://127.0.0.1:{receiver.server_address[1]}/airtable"
        created = api.base(BASE).add_webhook(url, SPEC)

        status = at.ping(created.id)
    finally:
        receiver.shutdown()
        receiver.server_close()

    ((body, header),) = _Receiver.received
    secret = base64.b64decode(created.mac_secret_base64)
    assert status == 200
    assert header == "hmac-sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    notification = WebhookNotification.from_request(
        body.decode(), header, created.mac_secret_base64
    )
    assert (notification.base.id, notification.webhook.id) == (BASE, created.id)
    assert api.base(BASE).webhook(created.id).last_notification_result.success
