"""Record: read the ledger, and claim each document's key before it is written or sent."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from cae.summary import Namer
from charter.model import Document, Ledger, LedgerStatus
from integrations.ledger import LedgerRow, LedgerStore


@task(name="read-ledger", cache_policy=NO_CACHE)
def read_ledger(store: LedgerStore) -> tuple[Ledger, list[LedgerRow]]:
    """The ledger, and the keys left ``pending`` by an earlier run, which wait for a person."""
    rows = store.rows()
    return {row.key: row.entry() for row in rows}, [
        row for row in rows if row.status is LedgerStatus.PENDING
    ]


@task(name="claim-documents", cache_policy=NO_CACHE)
def claim_documents(
    store: LedgerStore, documents: list[Document], as_of: date, namer: Namer
) -> list[Document]:
    """Claim every due key in one batch; return the documents this run may now issue.

    Historical documents (before the go-live date) are recorded as such and not returned. A key
    another run claimed first is not returned either: only the run that claimed it delivers it.
    """
    rows = [
        LedgerRow(
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
        )
        for doc in documents
    ]
    claimed = set(store.claim(rows))
    historical = sum(1 for doc in documents if doc.historical and doc.key in claimed)
    get_run_logger().info(
        "%d document(s) à émettre, %d antérieur(s) à la mise en service enregistré(s)",
        len(claimed) - historical,
        historical,
    )
    return [doc for doc in documents if doc.key in claimed and not doc.historical]
