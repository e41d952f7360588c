"""Read the ledger and claim the due documents' keys, as Prefect tasks around
``services.ledger``."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from charter.model import Document
from integrations.ledger import LedgerStore
from integrations.outbox import Outbox
from services import ledger
from services.backlog import settle_backlog
from services.handover import Handover
from services.journal import FAILED, RELEASED, SENT, WAITING, settle_journals
from services.ledger import LedgerState
from services.summary import Namer
from tasks.quoting import quoted
from tasks.refusals import refusal_fails


@quoted
@task(name="read-ledger", cache_policy=NO_CACHE)
@refusal_fails
def read_ledger(store: LedgerStore, outbox: Outbox, preview: bool = False) -> LedgerState:
    """The ledger as the run starts (``services.ledger.ledger_state``), once what a run
    stopped by Airtable's quota could not write is written (``services.backlog``), and what
    runs that died left in their journals (``services.journal``)."""
    settled = settle_backlog(store, outbox.folder, keep=preview)
    if settled:
        get_run_logger().info("%d issue(s) d'une exécution interrompue inscrite(s)", settled)
    journals = settle_journals(store, outbox.folder)
    if journals:
        get_run_logger().info(
            "Journal d'une exécution interrompue : %d envoyé(s), %d refusé(s), %d à envoyer "
            "de nouveau, %d à vérifier par une personne",
            journals[SENT],
            journals[FAILED],
            journals[RELEASED],
            journals[WAITING],
        )
    return ledger.ledger_state(store, outbox)


@quoted
@task(name="claim-documents", cache_policy=NO_CACHE)
@refusal_fails
def claim_documents(
    store: LedgerStore,
    documents: list[Document],
    as_of: date,
    namer: Namer,
    reissue: frozenset[str] = frozenset(),
    handover: Handover | None = None,
) -> list[Document]:
    """Claim every due key, a batch at a time, each batch told to ``handover`` as soon as it is
    recorded (``services.ledger.claim``)."""
    try:
        return ledger.claim(store, documents, as_of, namer, reissue, get_run_logger(), handover)
    finally:
        if handover is not None:
            handover.claims_over()
