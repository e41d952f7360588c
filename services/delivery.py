"""Render and deliver: letters to HTML and PDF, then the email that carries each one.

``render_into`` renders every letter a run may issue into a ``services.handover.Handover``;
``deliver`` takes each from it as soon as it is rendered and its key claimed (the three steps
run side by side), writes it to the out folder, sends it and records the outcome in the
ledger, then sends again what earlier runs failed to deliver. Each SMTP transaction and its
answer are first written to the run's journal (``integrations.journal``), synced to disk, so a
run killed mid-batch loses none of them. Plain functions: the tasks in ``tasks/documents.py``
wrap them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from email.message import EmailMessage
from typing import Any, Protocol

from charter.model import Cooperative, Document, LedgerStatus
from charter.params import CharterParams
from documents.mail import build_message
from documents.rendering import (
    RenderedDocument,
    RenderFailure,
    RenderJob,
    no_progress,
    render_stream,
)
from integrations.base import DataError
from integrations.ledger import LedgerRow, LedgerStore
from integrations.outbox import Outbox, file_stem
from integrations.smtp import DeliveryRefused, DeliveryUnknown
from services import progress
from services.handover import Handover
from services.run_log import Logger
from services.summary import Issued, Namer, document_details
from settings.config import CooperativeInfo
from settings.defaults import PARIS, PLACEHOLDER_SENDER

_LOGGER = logging.getLogger(__name__)


class Mailer(Protocol):
    """Sends one message; raises ``DeliveryRefused`` or ``DeliveryUnknown`` when it cannot."""

    name: str  # what the summary's ``delivery`` says when it went out: email or outbox

    def send(self, message: EmailMessage) -> None: ...


class OutboxOnly:
    """No SMTP configured: writing the document to the out folder is its delivery."""

    name = "outbox"

    def send(self, message: EmailMessage) -> None:
        return None


@dataclass(frozen=True)
class Rendered:
    document: Document
    result: RenderedDocument | None
    problem: str | None = None


@dataclass
class Delivered:
    issued: list[Issued] = field(default_factory=list)
    errors: list[DataError] = field(default_factory=list)


def render_into(
    handover: Handover,
    coop: Cooperative,
    info: CooperativeInfo,
    params: CharterParams,
    as_of: date,
) -> None:
    """Render every letter the run may issue into ``handover``, each as soon as it is made,
    while the keys are claimed and the letters delivered (``services.handover``)."""
    try:
        jobs = render_jobs(handover.documents, coop)
        render_stream(jobs, info, params, as_of, handover.keep, stop=handover.stopped)
    finally:
        handover.render_over()


def render_jobs(documents: list[Document], coop: Cooperative) -> list[RenderJob]:
    """Each document with the records its letter names."""
    return [
        RenderJob(
            doc,
            member=coop.members[doc.member_id],
            mission=coop.missions.get(doc.mission_id or ""),
            sponsor=coop.members.get(doc.sponsor_id or ""),
        )
        for doc in documents
    ]


def as_rendered(
    doc: Document, result: RenderedDocument | RenderFailure, logger: Logger = _LOGGER
) -> Rendered:
    """What delivery takes: the letter, or why there is none (logged)."""
    if isinstance(result, RenderFailure):
        logger.error("Rendu impossible pour %s : %s", doc.key, result.message)
        return Rendered(doc, None, f"rendu impossible : {result.message}")
    return Rendered(doc, result)


def handed_over(handover: Handover, logger: Logger = _LOGGER) -> Iterator[Rendered]:
    """The letters of ``handover`` as delivery takes them, each once rendered and claimed."""
    for doc, result in handover.letters():
        yield as_rendered(doc, result, logger)


def recipients(
    member_id: str | None, sponsor_id: str | None, coop: Cooperative, info: CooperativeInfo
) -> tuple[list[str], list[str]]:
    """The addressee and the copies: the sponsor on ``sponsorship_end``, the staff on all."""
    member = coop.members.get(member_id or "")
    to = [member.email] if member is not None and member.email else []
    cc = []
    sponsor = coop.members.get(sponsor_id or "")
    if sponsor is not None and sponsor.email:
        cc.append(sponsor.email)
    if info.staff_email:
        cc.append(info.staff_email)
    return to, cc


class Delivery:
    """Sends each document and records its outcome in the ledger, one document at a time."""

    def __init__(
        self,
        store: LedgerStore,
        outbox: Outbox,
        mailer: Mailer,
        coop: Cooperative,
        namer: Namer,
        info: CooperativeInfo,
        logger: Logger = _LOGGER,
    ) -> None:
        self.store, self.outbox, self.mailer = store, outbox, mailer
        self.coop, self.namer, self.info = coop, namer, info
        self.result = Delivered()
        self.logger = logger

    def new_documents(
        self, rendered: Iterable[Rendered], as_of: date, done: Callable[[], None] = no_progress
    ) -> None:
        sent_at = datetime.combine(as_of, time(7, 0), PARIS)
        for item in rendered:
            self._new_document(item, sent_at)
            done()

    def _new_document(self, item: Rendered, sent_at: datetime) -> None:
        doc = item.document
        details = document_details(doc, self.namer)
        if item.result is None:
            self._outcome(doc.key, details, [], LedgerStatus.FAILED, "failed")
            return
        to, cc = recipients(doc.member_id, doc.sponsor_id, self.coop, self.info)
        message = build_message(
            item.result,
            key=doc.key,
            sender=self.info.email or PLACEHOLDER_SENDER,
            to=to,
            cc=cc,
            attachment_name=f"{file_stem(doc.key)}.pdf",
            date=sent_at,
        )
        result = item.result
        files = self.outbox.write(doc.kind, doc.key, result.html, result.pdf, message)
        self.send(doc.key, details, message, files, doc.member_id)

    def retries(self, resend: list[LedgerRow], done: Callable[[], None] = no_progress) -> None:
        """Failed documents go again as written, to the addresses the records hold today."""
        rows = {row.key: row for row in resend}
        for key in self.store.reclaim(list(rows)):
            row = rows[key]
            message = self.outbox.read_message(row.kind, row.key)
            sponsor_id = _sponsor_of(row, self.coop)
            to, cc = recipients(row.member_id, sponsor_id, self.coop, self.info)
            for header, addresses in (("To", to), ("Cc", cc)):
                del message[header]
                if addresses:
                    message[header] = ", ".join(addresses)
            details = row.details or {"kind": row.kind, "key": row.key, "member": row.member}
            files = self.outbox.files(row.kind, row.key)
            self.send(row.key, details, message, files, row.member_id)
            done()

    def send(
        self,
        key: str,
        details: dict[str, Any],
        message: EmailMessage,
        files: list[str],
        member_id: str | None,
    ) -> None:
        to = [a.strip() for a in str(message.get("To", "")).split(",") if a.strip()]
        member = self.coop.members.get(member_id or "")
        # An address that could not be read was reported once, when read: not once more here.
        unreadable = member is not None and "email" in member.invalid
        if not to and not unreadable:
            schema = self.namer.schema
            where = " (il est dans le dossier de sortie)." if self.mailer.name == "outbox" else "."
            self.result.errors.append(
                DataError(
                    schema.label("members"),
                    self.namer.member(member_id),
                    schema.label("members", "email"),
                    f"Pas d'adresse email : le document {key} n'a pas pu être envoyé{where}",
                )
            )
        if not to and self.mailer.name != "outbox":
            self._outcome(key, details, files, LedgerStatus.FAILED, "failed")
            return
        # On disk before the transaction starts: a run killed during it leaves this key alone
        # waiting for a person (services.journal), every other key of its batch settled.
        self.store.journal.attempting(key)
        try:
            self.mailer.send(message)
        except DeliveryRefused as exc:
            self.logger.warning("Envoi refusé pour %s : %s", key, exc)
            self._outcome(key, details, files, LedgerStatus.FAILED, "failed")
        except DeliveryUnknown as exc:
            self.logger.error("Envoi incertain pour %s, à vérifier : %s", key, exc)
            self.store.journal.answer(key, "unknown")
            self.result.issued.append(Issued(details, files, "pending"))
        else:
            self._outcome(key, details, files, LedgerStatus.SENT, self.mailer.name)

    def _outcome(
        self,
        key: str,
        details: dict[str, Any],
        files: list[str],
        status: LedgerStatus,
        delivery: str,
    ) -> None:
        document = files[0] if files else None
        # The journal first, synced to disk: the ledger's mark may wait in a buffer.
        self.store.journal.answer(key, status.value, document)
        self.store.mark(key, status, document=document)
        self.result.issued.append(Issued(details, files, delivery))


def deliver(
    store: LedgerStore,
    outbox: Outbox,
    mailer: Mailer,
    handover: Handover,
    resend: list[LedgerRow],
    coop: Cooperative,
    namer: Namer,
    info: CooperativeInfo,
    as_of: date,
    logger: Logger = _LOGGER,
) -> Delivered:
    """Write each new document to the out folder with its email, send it, record the outcome;
    then send again what earlier runs failed to deliver.

    The letters come from ``handover`` one by one as they are rendered and claimed; the
    summary lists them in the documents' order."""
    delivery = Delivery(store, outbox, mailer, coop, namer, info, logger)
    letters = handed_over(handover, logger)
    order = [doc.key for doc in handover.documents]
    try:
        with progress.batch("Envoi", len(order) + len(resend)) as done:
            delivery.new_documents(letters, as_of, done)
            position = {key: index for index, key in enumerate(order)}
            delivery.result.issued.sort(key=lambda issued: position[issued.details["key"]])
            delivery.retries(resend, done)
    finally:
        store.flush()
    store.journal.settled()  # the ledger holds every outcome: the journal may go
    return delivery.result


def _sponsor_of(row: LedgerRow, coop: Cooperative) -> str | None:
    """The sponsor copied on a ``sponsorship_end`` letter: the godchild's sponsor today."""
    if row.kind != "sponsorship_end" or row.member_id is None:
        return None
    member = coop.members.get(row.member_id)
    return member.sponsor_id if member else None
