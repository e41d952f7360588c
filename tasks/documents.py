"""Render and deliver: letters to HTML and PDF, then the email that carries each one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from cae.config import CooperativeInfo
from cae.defaults import PARIS
from cae.rendering import RenderedDocument, Renderer
from cae.summary import Issued
from charter.model import Cooperative, Document, LedgerStatus
from charter.params import CharterParams
from integrations.ledger import LedgerStore
from integrations.mail import build_message
from integrations.outbox import Outbox, file_stem


@dataclass(frozen=True)
class Rendered:
    document: Document
    result: RenderedDocument | None
    problem: str | None = None


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
    doc: Document, coop: Cooperative, info: CooperativeInfo
) -> tuple[list[str], list[str]]:
    """The addressee and the copies: the sponsor on ``sponsorship_end``, the staff on all."""
    member = coop.members[doc.member_id]
    to = [member.email] if member.email else []
    cc = []
    sponsor = coop.members.get(doc.sponsor_id or "")
    if sponsor is not None and sponsor.email:
        cc.append(sponsor.email)
    if info.staff_email:
        cc.append(info.staff_email)
    return to, cc


@task(name="deliver-documents", cache_policy=NO_CACHE)
def deliver_documents(
    store: LedgerStore,
    outbox: Outbox,
    rendered: list[Rendered],
    coop: Cooperative,
    info: CooperativeInfo,
    as_of: date,
) -> list[Issued]:
    """Write each document to the out folder with its email, then mark its key ``sent``."""
    issued = []
    sent_at = datetime.combine(as_of, time(7, 0), PARIS)
    for item in rendered:
        doc = item.document
        if item.result is None:
            store.mark(doc.key, LedgerStatus.FAILED)
            issued.append(Issued(doc, [], "failed"))
            continue
        to, cc = recipients(doc, coop, info)
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
        store.mark(doc.key, LedgerStatus.SENT, document=files[0])
        issued.append(Issued(doc, files, "outbox"))
    return issued
