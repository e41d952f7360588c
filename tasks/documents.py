"""Render and deliver, as Prefect tasks around ``services.delivery``: in a run they work side
by side with ``claim-documents`` through a ``services.handover.Handover``."""

from __future__ import annotations

from datetime import date

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from charter.model import Cooperative
from charter.params import CharterParams
from integrations.ledger import LedgerRow
from services import delivery
from services.delivery import Delivered
from services.handover import Handover
from services.run_setup import RunSetup
from services.summary import Namer
from settings.config import CooperativeInfo
from tasks.quoting import quoted
from tasks.refusals import refusal_fails


@quoted
@task(name="render-documents", cache_policy=NO_CACHE)
def render_documents(
    handover: Handover,
    coop: Cooperative,
    info: CooperativeInfo,
    params: CharterParams,
    as_of: date,
) -> None:
    """Render every letter the run may issue into ``handover``
    (``services.delivery.render_into``)."""
    delivery.render_into(handover, coop, info, params, as_of)


@quoted
@task(name="deliver-documents", cache_policy=NO_CACHE)
@refusal_fails
def deliver_documents(
    run: RunSetup,
    handover: Handover,
    resend: list[LedgerRow],
    coop: Cooperative,
    namer: Namer,
) -> Delivered:
    """Send each letter as soon as it is rendered and claimed, then the failed ones again
    (``services.delivery.deliver``)."""
    return delivery.deliver(
        run.ledger_store,
        run.delivery_outbox,
        run.mailer,
        handover,
        resend,
        coop,
        namer,
        run.config.cooperative,
        run.as_of,
        get_run_logger(),
    )
