"""The same evaluation written the way a typical script would: the API record by record.

    python -m bench.baseline --data DIR --as-of 2026-11-26 --result R.json

(Airtable settings from the environment, as ``cae run --source airtable`` takes them.)

What such a script does: list the missions and the members; for each mission, fetch each of
its invoices and each member it names (bearer, project manager, lead developer, team, the
newcomer it is piloted for) one by one with ``table.get``; for each member, fetch their sponsor,
each of their attendance rows and that row's plenary, and each of their volunteering weeks;
list the workshops and the two ledger tables. It then applies the very same rules
(``charter.evaluate``) and writes the ledger one row a request: create each new row, mark each
issued document sent, update each member status that changed. It renders no PDF.

To be fair to it, it is given the project's own pacing (5 requests a second, 30 s after a 429):
a script with pyairtable's default retry would trip the limit and stop. It also reads each
ledger table once instead of looking up every key (which would cost one more request per
document). The gap with ``cae run`` is therefore the number of requests, nothing else.
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

from charter.evaluate import evaluate
from integrations.airtable import AirtableClient
from integrations.airtable_source import source_record
from integrations.assemble import assemble
from integrations.base import SourceTables
from integrations.ledger import LedgerRow
from integrations.ledger_fields import (
    READ_FIELDS,
    STATUS,
    claim_fields,
    row_from_cells,
    table_for,
)
from integrations.remote import airtable_settings
from services.ledger import claim_row
from services.summary import Namer
from settings.config import Config

#: Link fields of Missions naming members, and the inverse fields Airtable adds elsewhere.
MISSION_MEMBER_LINKS = ("Porteur·euse", "Chef·fe de projet", "Lead dev", "Équipe")
MISSION_MEMBER_LINKS += ("Mission pilotée pour",)


def record_by_record(client: AirtableClient, config: Config, as_of: date) -> dict[str, Any]:
    schema = config.schema
    label = {key: spec.label for key, spec in schema.tables.items()}
    tables = {key: client.table(name) for key, name in label.items()}
    fetched: dict[str, dict[str, dict[str, Any]]] = {key: {} for key in label}

    def get(key: str, record_id: str) -> dict[str, Any]:
        record = tables[key].get(record_id)
        fetched[key][record_id] = record
        return record

    missions = tables["missions"].all()
    members = tables["members"].all()
    for mission in missions:
        fetched["missions"][mission["id"]] = mission
        for invoice_id in mission["fields"].get("Factures", []):
            get("invoices", invoice_id)
        for link in MISSION_MEMBER_LINKS:
            for member_id in mission["fields"].get(link, []):
                get("members", member_id)
    for member in members:
        fetched["members"].setdefault(member["id"], member)
        for sponsor_id in member["fields"].get("Parrain·marraine", []):
            get("members", sponsor_id)
        for row_id in member["fields"].get("Présences", []):
            row = get("attendance", row_id)
            for plenary_id in row["fields"].get("Plénière", []):
                get("plenaries", plenary_id)
        for row_id in member["fields"].get("Bénévolat", []):
            get("volunteering", row_id)
    for workshop in tables["workshops"].all():
        fetched["workshops"][workshop["id"]] = workshop

    source = SourceTables()
    for key, records in fetched.items():
        spec = schema.table(key)
        source.tables[key] = [source_record(spec, r, source.errors) for r in records.values()]
    coop, _ = assemble(source, schema)

    ledger: dict[str, tuple[str, LedgerRow]] = {}
    for table in ("Versements", "Courriers"):
        for record in client.table(table).all(fields=READ_FIELDS):
            row = row_from_cells(record.get("fields", {}))
            if row is not None:
                ledger[row.key] = (record["id"], row)
    evaluation = evaluate(
        coop, {k: row.entry() for k, (_, row) in ledger.items()}, as_of, config.charter,
        config.go_live,
    )  # fmt: skip

    namer = Namer(coop, schema)
    created: dict[str, str] = {}
    for doc in evaluation.documents:
        if doc.key in ledger:
            continue
        row = claim_row(doc, as_of, namer)
        created[doc.key] = client.table(table_for(doc.kind)).create(claim_fields(row))["id"]
    issued = [d for d in evaluation.documents if d.key in created and not d.historical]
    for doc in issued:
        client.table(table_for(doc.kind)).update(created[doc.key], {STATUS: "sent"})
    status_label = schema.label("members", "status")
    for change in evaluation.status_changes:
        tables["members"].update(change.member_id, {status_label: change.status.value})
    return {
        "documents": len(issued),
        "documents_by_kind": dict(Counter(d.kind for d in issued)),
        "historical": len(created) - len(issued),
        "status_changes": len(evaluation.status_changes),
        "records_fetched": {key: len(records) for key, records in fetched.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True, type=Path)
    parser.add_argument("--as-of", type=date.fromisoformat, required=True)
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args(argv)
    config = Config.find(args.data)
    client = AirtableClient(airtable_settings(config))
    began = time.perf_counter()
    result = record_by_record(client, config, args.as_of)
    result["wall_s"] = time.perf_counter() - began
    args.result.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
