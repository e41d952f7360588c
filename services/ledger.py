"""The ledger as a run sees it: what is already claimed, waiting or to resend, and the claims.

Every document's key is claimed in the ledger before the document is written or sent, so a
key is issued once. Plain functions: the tasks in ``tasks/ledger.py`` wrap them, and the
benchmarks' baseline claims with ``claim_row`` too.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from charter.model import Document, Ledger, LedgerStatus
from integrations.ledger import LedgerRow, LedgerStore
from integrations.ledger_fields import table_for
from integrations.outbox import Outbox
from services.handover import Handover, claim_order
from services.run_log import Logger
from services.summary import Namer, document_details

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class LedgerState:
    """The ledger as a run starts.

    ``entries`` is what the charter sees: every key, except failed ones that never got a
    document written, which the rules issue again. ``waiting`` are keys left ``pending`` by an
    earlier run: nobody knows whether they went out, so they wait for a person. ``resend`` are
    failed keys whose document was written: a retry sends those very files again.
    """

    entries: Ledger
    waiting: list[LedgerRow]
    resend: list[LedgerRow]
    reissue: frozenset[str]
    to_post: list[LedgerRow]


def ledger_state(store: LedgerStore, outbox: Outbox) -> LedgerState:
    """Read every row once and sort them: the charter's view, the waiting, the resend."""
    rows = store.rows()
    failed = [row for row in rows if row.status is LedgerStatus.FAILED]
    resend = [row for row in failed if outbox.has(row.kind, row.key)]
    reissue = frozenset(row.key for row in failed) - {row.key for row in resend}
    return LedgerState(
        entries={row.key: row.entry() for row in rows if row.key not in reissue},
        waiting=[row for row in rows if row.status is LedgerStatus.PENDING],
        resend=resend,
        reissue=reissue,
        to_post=[
            row
            for row in rows
            if row.registered and row.status is LedgerStatus.SENT and not row.registered_number
        ],
    )


def claim_row(doc: Document, as_of: date, namer: Namer) -> LedgerRow:
    """The ledger row that claims ``doc``'s key: ``historical`` before go-live, else
    ``pending`` until its delivery is known."""
    return LedgerRow(
        key=doc.key,
        kind=doc.kind,
        status=LedgerStatus.HISTORICAL if doc.historical else LedgerStatus.PENDING,
        issued_on=as_of,
        member_id=doc.member_id,
        member=namer.member(doc.member_id),
        mission_id=doc.mission_id,
        mission=namer.mission(doc.mission_id),
        amount=doc.amount,
        registered=doc.registered,
        details=document_details(doc, namer),
    )


#: Rows claimed in one call to the store, unless it says otherwise (``claim_batch``): Airtable
#: writes 10 rows a request, so a batch of 10 from one table is one request.
CLAIM_BATCH = 10


def claim(
    store: LedgerStore,
    documents: list[Document],
    as_of: date,
    namer: Namer,
    reissue: frozenset[str] = frozenset(),
    logger: Logger = _LOGGER,
    handover: Handover | None = None,
) -> list[Document]:
    """Claim every due key; return the documents this run may now issue.

    Historical documents (before the go-live date) are recorded as such and not returned. A key
    another run claimed first is not returned either: only the run that claimed it delivers it.
    A failed key with no document written is taken back from ``failed`` to ``pending``.

    The keys are claimed a batch at a time: ``claim_batch`` rows of one ledger table, the
    documents to issue first, the historical ones last (``services.handover.claim_order``).
    Each batch the store recorded is told to ``handover`` at once, so the letters it names
    may go while the next batches are written; once it is stopped, no more batch is sent.
    """
    keys = {doc.key for doc in documents}
    claimed = set(store.reclaim(sorted(reissue & keys)))
    if handover is not None:
        handover.claimed(sorted(claimed))
    rows = [
        claim_row(doc, as_of, namer)
        for doc in sorted(documents, key=claim_order)
        if doc.key not in reissue
    ]
    for batch in batches(rows, getattr(store, "claim_batch", CLAIM_BATCH)):
        if handover is not None and handover.stopped():
            break
        taken = store.claim(batch)
        claimed.update(taken)
        if handover is not None:
            handover.claimed(taken)
    historical = sum(1 for doc in documents if doc.historical and doc.key in claimed)
    logger.info(
        "%d document(s) à émettre, %d antérieur(s) à la mise en service enregistré(s)",
        len(claimed) - historical,
        historical,
    )
    return [doc for doc in documents if doc.key in claimed and not doc.historical]


def batches(rows: list[LedgerRow], size: int) -> list[list[LedgerRow]]:
    """``rows`` cut into batches of ``size`` rows of one ledger table each (only a table's
    last batch is smaller), in the order of their first row."""
    by_table: dict[str, list[tuple[int, LedgerRow]]] = defaultdict(list)
    for position, row in enumerate(rows):
        by_table[table_for(row.kind)].append((position, row))
    cut = [
        table_rows[start : start + size]
        for table_rows in by_table.values()
        for start in range(0, len(table_rows), size)
    ]
    cut.sort(key=lambda batch: batch[0][0])
    return [[row for _, row in batch] for batch in cut]
