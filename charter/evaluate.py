"""Apply every rule of the charter to the cooperative's records as of one day.

``evaluate`` is a pure function of the records, the ledger, the day and the parameters: the same
inputs always give the same documents, alerts and errors (the charter's preamble).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date

from charter.associates import associate_reminders
from charter.commission import payout_notices
from charter.contribution import contribution_statements
from charter.findings import Findings, Situation
from charter.membership import Membership
from charter.model import Cooperative, Document, Evaluation, Ledger, LedgerEntry, LedgerStatus
from charter.params import CharterParams
from charter.plenaries import plenary_letters
from charter.renewal import renewal_letters
from charter.resignation import resignation_letters
from charter.sponsorship import sponsorship_checks
from charter.staffing import missing_roles
from charter.volunteering import missing_workshops, volunteering_shortfalls


def evaluate(
    coop: Cooperative,
    ledger: Ledger,
    as_of: date,
    params: CharterParams | None = None,
    go_live: date | None = None,
) -> Evaluation:
    """Everything that falls due on ``as_of`` and is not in the ledger yet.

    Documents whose triggering date is before ``go_live`` come back with ``historical=True``:
    they are to be recorded in the ledger, not issued (§10).
    """
    with _without_cycle_collection():
        return _evaluate(coop, ledger, as_of, params, go_live)


@contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: the evaluation makes no reference cycles (reference
    counting frees what it drops), and on a large cooperative each pass of the collector
    rescans every record read: a third of the evaluation's time at 10,000 members
    (bench/README.md)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _evaluate(
    coop: Cooperative,
    ledger: Ledger,
    as_of: date,
    params: CharterParams | None,
    go_live: date | None,
) -> Evaluation:
    params = params or CharterParams()
    situation = Situation(
        coop, ledger, as_of, params, Membership(coop, ledger, params, as_of), go_live
    )
    found = Findings()
    skipped: list[str] = []

    if coop.invoices is None:
        skipped.append("relevés de contribution (art. 3)")
    else:
        found.add(contribution_statements(situation))
    found.add(payout_notices(situation))
    found.add(missing_roles(situation))
    found.add(resignation_letters(situation))

    if coop.plenaries is None or coop.attendance is None:
        skipped.append("absences aux plénières (art. 7)")
    else:
        plenaries = plenary_letters(situation)
        found.add(plenaries)
        # An exclusion takes effect the day its letter is issued: the rules below no longer
        # count the excluded member.
        situation = _with_issued(
            situation, [d for d in plenaries.documents if d.kind == "exclusion"]
        )

    found.add(renewal_letters(situation))
    found.add(associate_reminders(situation))
    found.add(sponsorship_checks(situation))
    if coop.volunteering is None:
        skipped.append("heures de bénévolat (art. 13)")
    else:
        found.add(volunteering_shortfalls(situation))
    if coop.workshops is None:
        skipped.append("ateliers mensuels (art. 11)")
    else:
        found.add(missing_workshops(situation))

    # The rules make every document with historical=False: only those before go-live change.
    documents = [
        d.as_historical() if situation.is_historical(d.trigger_on) else d for d in found.documents
    ]
    return Evaluation(
        documents=documents,
        alerts=found.alerts,
        errors=found.errors,
        status_changes=situation.membership.status_changes(),
        skipped_rules=skipped,
    )


def _with_issued(situation: Situation, documents: list[Document]) -> Situation:
    if not documents:
        return situation
    ledger = dict(situation.ledger)
    for doc in documents:
        ledger[doc.key] = LedgerEntry(
            doc.key, doc.kind, LedgerStatus.PENDING, situation.as_of, member_id=doc.member_id
        )
    membership = Membership(situation.coop, ledger, situation.params, situation.as_of)
    return replace(situation, ledger=ledger, membership=membership)
