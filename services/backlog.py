"""What a run stopped by Airtable's monthly quota could not write to its ledger, kept for the next.

Once a workspace has spent its monthly API calls, Airtable refuses every request, writes
included, so a run stopped mid-way cannot record in Versements and Courriers what it did. It
keeps that in ``OUT/ledger-backlog.json`` instead, by key:

- a document it sent: ``sent`` (or ``failed`` when the mail server refused it), with its files;
- a document it claimed but never wrote to the out folder, hence never sent: ``failed``, which
  the next run issues again (a failed key with no document written is issued anew);
- a document written but whose sending is uncertain is left out: it stays ``pending``, for a
  person to check, as after any interrupted run.

The next run writes the backlog to the ledger before it reads it (``settle_backlog``), then
deletes the file: nothing claimed is lost and nothing goes out twice. A preview applies the
backlog to its copy only and keeps the file. Without the file (another machine's out folder),
the claimed keys stay ``pending`` and wait for a person: never sent twice.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from charter.model import LedgerStatus
from integrations.airtable_ledger import AirtableLedger
from integrations.ledger import LedgerStore
from integrations.outbox import Outbox

BACKLOG = "ledger-backlog.json"


def save_backlog(store: LedgerStore, outbox: Outbox) -> int:
    """Keep in ``OUT/ledger-backlog.json`` the outcomes ``store`` could not write; return how
    many keys it holds (0, and no file, for a ledger that never needs one)."""
    if not isinstance(store, AirtableLedger):
        return 0
    path = outbox.folder / BACKLOG
    backlog: dict[str, Any] = _read(path)
    for key, row in store.claimed.items():
        if key in store.outcomes:
            if key in store.unwritten:
                status, document = store.outcomes[key]
                backlog[key] = {"status": status.value, "document": document}
        elif row.status is not LedgerStatus.HISTORICAL and not outbox.has(row.kind, key):
            backlog[key] = {"status": LedgerStatus.FAILED.value, "document": None}
    if backlog:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(backlog, ensure_ascii=False, indent=2) + "\n", "utf-8")
    return len(backlog)


def settle_backlog(store: LedgerStore, folder: Path, keep: bool = False) -> int:
    """Write to ``store`` what an earlier run left in ``folder/ledger-backlog.json`` and delete
    the file (``keep``: a preview, whose store writes nothing, keeps it); return the keys set."""
    path = folder / BACKLOG
    backlog = _read(path)
    if not backlog:
        return 0
    known = {row.key for row in store.rows()}
    settled = 0
    for key, outcome in backlog.items():
        if key in known:
            store.mark(key, LedgerStatus(outcome["status"]), outcome.get("document"))
            settled += 1
    store.flush()
    if not keep:
        path.unlink()
    return settled


def _read(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text("utf-8"))
    return data if isinstance(data, dict) else {}
