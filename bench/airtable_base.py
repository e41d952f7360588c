"""An Airtable emulator holding a generated cooperative, and what a run on it must cost.

The tables and fields are made over HTTP by ``cae airtable init``'s code (``init_base``); the
records are the CSV folder's, read by ``LocalWorkbook`` and converted as ``init_base`` converts
them, but put in through the emulator's Python API (``insert_many``): the run is what goes over
real HTTP, not the load.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from emulators.airtable import AirtableEmulator
from emulators.airtable.minimum import minimum_requests
from integrations.airtable import AirtableClient, AirtableSettings
from integrations.airtable_init import _fields, init_base
from integrations.ledger_fields import LETTERS, PAYOUT_KINDS, PAYOUTS
from integrations.workbook import LocalWorkbook
from settings.schema import Schema

TOKEN, BASE = "patCAEBENCH", "appCAEBENCH"
LEDGER_TABLES = (PAYOUTS, LETTERS)


def load_base(emulator: AirtableEmulator, folder: Path, schema: Schema | None = None) -> None:
    """Create the base's tables (HTTP, limit lifted) and load ``folder``'s records directly."""
    schema = schema or Schema.default()
    settings = AirtableSettings(
        base_id=BASE, token=TOKEN, endpoint_url=emulator.url, requests_per_second=1000
    )
    limit, emulator.rate_limit = emulator.rate_limit, None
    try:
        init_base(AirtableClient(settings), schema)
    finally:
        emulator.rate_limit = limit
    tables = LocalWorkbook(folder).read(schema).tables
    ids: dict[str, dict[str, str]] = {}
    for key, records in tables.items():
        spec = schema.table(key)
        deferred = [f for f in spec.fields if f.link_table == key]  # a member's sponsor
        rows = [_fields(spec, r.values, ids, skip=deferred) for r in records]
        made = emulator.insert_many(spec.label, rows)
        ids[key] = {r.id: made_id for r, made_id in zip(records, made, strict=True)}
        for record in records:
            if any(f.key in record.values for f in deferred):
                cells = _fields(spec, record.values, ids, only=deferred)
                emulator.change_record(spec.label, ids[key][record.id], cells)
    emulator.reset_counts()
    emulator.reset_rate_limit()


def environment(emulator: AirtableEmulator, *, real_limit: bool) -> dict[str, str]:
    """What a run needs to reach the emulator: at Airtable's limit (5 a second, 30 s after a
    429), or with the client's pace lifted for a count."""
    env = {
        "AIRTABLE_TOKEN": TOKEN,
        "AIRTABLE_BASE_ID": BASE,
        "AIRTABLE_ENDPOINT_URL": emulator.url,
        "CAE_AIRTABLE_PENALTY_SECONDS": "30",
    }
    if not real_limit:
        env["CAE_AIRTABLE_RATE"] = "100000"
    return env


def table_sizes(emulator: AirtableEmulator, schema: Schema | None = None) -> dict[str, int]:
    schema = schema or Schema.default()
    labels = [spec.label for spec in schema.tables.values()] + list(LEDGER_TABLES)
    return {label: len(emulator.records(label)) for label in labels}


def statuses(emulator: AirtableEmulator) -> dict[str, Any]:
    return {r["id"]: r["fields"].get("Statut") for r in emulator.records("Membres")}


def run_minimum(
    before: dict[str, int],
    after: dict[str, int],
    documents: list[dict[str, Any]],
    status_rows: int,
) -> int:
    """The fewest requests the API allows for a run that started on ``before``: every
    table read; then claim every ledger row the run added (issued and historical), mark each
    issued document sent, write each member status that changed."""
    claimed = {table: after[table] - before[table] for table in LEDGER_TABLES}
    marked = Counter(PAYOUTS if d["kind"] in PAYOUT_KINDS else LETTERS for d in documents)
    return minimum_requests(before, [claimed, marked, {"Membres": status_rows}])
