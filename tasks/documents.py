"""Render and deliver: letters to HTML and PDF, then the email that carries each one."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from email.message import EmailMessage
from typing import Protocol

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from cae.config import CooperativeInfo
from cae.defaults import PARIS
from cae.rendering import RenderedDocument, Renderer
from cae.summary import Issued, Namer, document_details
from charter.model import Cooperative, Document, LedgerStatus
from charter.params import CharterParams
from integrations.base import DataError
from integrations.ledger import LedgerRow, LedgerStore
from integrations.mail import build_message
from integrations.outbox import Outbox, file_stem
from integrations.smtp import DeliveryRefused, DeliveryUnknown


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


@task(name="render-documents", cache_policy=NO_CACHE)
def render_documents(
    documents: list[Document],
    coop: Cooperative,
    info: CooperativeInfo,
    params: CharterParams,
    as_of: date,
) -> list[Rendered]:
    """Render every claimed document; one that cannot be rendered is reported, not lost."""
    renderer = Renderer(info, params)
    rendered = []
    for doc in documents:
        try:
            result = renderer.render(
                doc,
                member=coop.members[doc.member_id],
                mission=coop.missions.get(doc.mission_id or ""),
                sponsor=coop.members.get(doc.sponsor_id or ""),
                as_of=as_of,
            )
        except Exception as exc:  # a template bug must not stop the other letters
            get_run_logger().error("Rendu impossible pour %s : %s", doc.key, exc)
            rendered.append(Rendered(doc, None, f"rendu impossible : {exc}"))
        else:
            rendered.append(Rendered(doc, result))
    return rendered


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


class _Delivery:
    """Sends each document and records the outcome in the ledger, one document at a time."""

    def __init__(
        self, store: LedgerStore, mailer: Mailer, namer: Namer, info: CooperativeInfo
    ) -> None:
        self.store, self.mailer, self.namer, self.info = store, mailer, namer, info
        self.result = Delivered()
        self.logger = get_run_logger()

    def send(
        self,
        key: str,
        details: dict,
        message: EmailMessage,
        files: list[str],
        member_id: str | None,
    ) -> None:
        to = [a.strip() for a in str(message.get("To", "")).split(",") if a.strip()]
        if not to:
            name = self.namer.member(member_id)
            self.result.errors.append(
                DataError(
                    self.namer.schema.label("members"),
                    name,
                    self.namer.schema.label("members", "email"),
                    f"Pas d'adresse email : le document {key} n'a pas pu être envoyé"
                    + (
                        " (il est dans le dossier de sortie)."
                        if self.mailer.name == "outbox"
                        else "."
                    ),
                )
            )
            if self.mailer.name != "outbox":
                self._outcome(key, details, files, LedgerStatus.FAILED, "failed")
                return
        try:
            self.mailer.send(message)
        except DeliveryRefused as exc:
            self.logger.warning("Envoi refusé pour %s : %s", key, exc)
            self._outcome(key, details, files, LedgerStatus.FAILED, "failed")
        except DeliveryUnknown as exc:
            self.logger.error("Envoi incertain pour %s, à vérifier : %s", key, exc)
            self.result.issued.append(Issued(details, files, "pending"))
        else:
            self._outcome(key, details, files, LedgerStatus.SENT, self.mailer.name)

    def _outcome(
        self, key: str, details: dict, files: list[str], status: LedgerStatus, delivery: str
    ) -> None:
        self.store.mark(key, status, document=files[0] if files else None)
        self.result.issued.append(Issued(details, files, delivery))


@task(name="deliver-documents", cache_policy=NO_CACHE)
def deliver_documents(
    store: LedgerStore,
    outbox: Outbox,
    mailer: Mailer,
    rendered: list[Rendered],
    resend: list[LedgerRow],
    coop: Cooperative,
    namer: Namer,
    info: CooperativeInfo,
    as_of: date,
) -> Delivered:
    """Write each new document to the out folder with its email, send it, record the outcome.

    Failed documents of earlier runs go again as they were written (same PDF, same
    Message-ID), to the addresses the records hold today.
    """
    delivery = _Delivery(store, mailer, namer, info)
    sent_at = datetime.combine(as_of, time(7, 0), PARIS)
    for item in rendered:
        doc = item.document
        details = document_details(doc, namer)
        if item.result is None:
            store.mark(doc.key, LedgerStatus.FAILED)
            delivery.result.issued.append(Issued(details, [], "failed"))
            continue
        to, cc = recipients(doc.member_id, doc.sponsor_id, coop, info)
        message = build_message(
            item.result,
            key=doc.key,
            sender=info.email or "cooperative@example.invalid",
            to=to,
            cc=cc,
            attachment_name=f"{file_stem(doc.key)}.pdf",
            date=sent_at,
        )
        files = outbox.write(doc.kind, doc.key, item.result.html, item.result.pdf, message)
        delivery.send(doc.key, details, message, files, doc.member_id)
    for key in store.reclaim([row.key for row in resend]):
        row = next(r for r in resend if r.key == key)
        message = outbox.read_message(row.kind, row.key)
        to, cc = recipients(row.member_id, _sponsor_of(row, coop), coop, info)
        for header, addresses in (("To", to), ("Cc", cc)):
            del message[header]
            if addresses:
                message[header] = ", ".join(addresses)
        details = row.details or {"kind": row.kind, "key": row.key, "member": row.member}
        delivery.send(row.key, details, message, outbox.files(row.kind, row.key), row.member_id)
    return delivery.result


def _sponsor_of(row: LedgerRow, coop: Cooperative) -> str | None:
    """The sponsor copied on a ``sponsorship_end`` letter: the godchild's sponsor today."""
    if row.kind != "sponsorship_end" or row.member_id is None:
        return None
    member = coop.members.get(row.member_id)
    return member.sponsor_id if member else None
