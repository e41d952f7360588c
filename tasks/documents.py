"""Render and deliver, as Prefect tasks around ``services.delivery``."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from charter.model import Cooperative, Document
from charter.params import CharterParams
from integrations.ledger import LedgerRow
from services import delivery
from services.delivery import Delivered, Rendered
from services.run_setup import RunSetup
from services.summary import Namer
from settings.config import CooperativeInfo
from tasks.quoting import quoted
from tasks.refusals import refusal_fails


@quoted
@task(name="render-documents", cache_policy=NO_CACHE)
def render_documents(
    documents: list[Document],
    coop: Cooperative,
    info: CooperativeInfo,
    params: CharterParams,
    as_of: date,
) -> list[Rendered]:
    """Render every claimed document (``services.delivery.render``)."""
    return delivery.render(documents, coop, info, params, as_of, get_run_logger())


@quoted
@task(name="deliver-documents", cache_policy=NO_CACHE)
@refusal_fails
def deliver_documents(
    run: RunSetup,
    rendered: list[Rendered],
    resend: list[LedgerRow],
    coop: Cooperative,
    namer: Namer,
) -> Delivered:
    """Send the new documents, then the failed ones again (``services.delivery.deliver``)."""
    return delivery.deliver(
        run.ledger_store,
        run.delivery_outbox,
        run.mailer,
        rendered,
        resend,
        coop,
        namer,
        run.config.cooperative,
        run.as_of,
        get_run_logger(),
    )
