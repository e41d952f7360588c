"""The receiver's ASGI app: routes each sender's endpoint to its handler and applies one error
policy to all of them.

A handler is an async callable ``(request) -> JSONResponse`` that raises ``Rejected`` for a bad
request. ``Guarded`` turns that into its 4xx ``{"erreur": "…"}``; any other exception is a bug
or a broken dependency: it is logged with its traceback and answered 500, never passed off as a
bad request. A sender left out of the configuration gets ``NotConfigured`` (404).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cae.webhooks.airtable import AirtableChanges, AirtableHandler
from cae.webhooks.generic import GenericHandler
from cae.webhooks.http import HTTP_MESSAGES, Rejected, answer, refusal
from cae.webhooks.launcher import Launcher, TargetedRuns
from cae.webhooks.notion import NotionHandler
from cae.webhooks.settings import ReceiverConfig

logger = logging.getLogger(__name__)

Handler = Callable[[Request], Awaitable[JSONResponse]]

INTERNAL_ERROR = "Erreur interne du récepteur."


class NotConfigured:
    """The endpoint of a sender the receiver was not configured for."""

    def __init__(self, message: str) -> None:
        self.message = message

    async def __call__(self, request: Request) -> JSONResponse:
        raise Rejected(404, self.message)


class Guarded:
    """A handler behind the receiver's error policy: a bad request is its 4xx, a bug a 500."""

    def __init__(self, sender: str, handle: Handler) -> None:
        self.sender = sender
        self.handle = handle

    async def respond(self, request: Request) -> JSONResponse:
        try:
            return await self.handle(request)
        except Rejected as refused:
            logger.info(
                "Webhook %s refusé : %s (%s).", self.sender, refused.message, refused.status
            )
            return refusal(refused.status, refused.message)
        except Exception:
            logger.exception("Webhook %s : erreur interne du récepteur.", self.sender)
            return refusal(500, INTERNAL_ERROR)


class Health:
    """``GET /healthz``, and whether a reading of Airtable changes is under way."""

    def __init__(self, changes: AirtableChanges | None) -> None:
        self.changes = changes

    async def respond(self) -> JSONResponse:
        return answer(200, statut="ok", airtable_en_cours=bool(self.changes and self.changes.busy))


async def http_error(request: Request, error: Exception) -> JSONResponse:
    """The router's own refusals (unknown address, wrong method), in French."""
    status = error.status_code if isinstance(error, StarletteHTTPException) else 500
    return refusal(status, HTTP_MESSAGES.get(status, "Requête refusée."))


def airtable_changes(config: ReceiverConfig, launch: Launcher) -> AirtableChanges | None:
    """The background reading of Airtable changes, when the receiver accepts Airtable."""
    if config.airtable is None or config.cursor_store is None:
        return None
    return AirtableChanges(config.airtable, config.cursor_store, launch, config.targeted_deployment)


def handlers(
    config: ReceiverConfig, runs: TargetedRuns, changes: AirtableChanges | None
) -> dict[str, tuple[str, Handler]]:
    """Each endpoint's path, and its sender's name (for the logs) and handler."""
    limits = config.limits
    airtable: Handler = NotConfigured("Webhook Airtable non configuré.")
    if changes is not None:
        airtable = AirtableHandler(changes, limits)
    notion: Handler = NotConfigured("Webhook Notion non configuré.")
    if config.notion is not None:
        notion = NotionHandler(config.notion, limits, runs)
    generic: Handler = NotConfigured("Point d'entrée générique non configuré.")
    if config.generic_secret is not None:
        generic = GenericHandler(config.generic_secret, limits, runs)
    return {
        "/webhooks/airtable": ("Airtable", airtable),
        "/webhooks/notion": ("Notion", notion),
        "/webhooks/generic": ("générique", generic),
    }


def create_app(config: ReceiverConfig, launch: Launcher) -> FastAPI:
    """The receiver. ``launch`` starts a flow run (``prefect_launcher()`` in production)."""
    app = FastAPI(
        title="Coopérative — réception des webhooks",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_exception_handler(StarletteHTTPException, http_error)
    changes = airtable_changes(config, launch)
    app.state.airtable_changes = changes
    app.add_api_route("/healthz", Health(changes).respond, methods=["GET"])
    runs = TargetedRuns(launch, config.targeted_deployment)
    for path, (sender, handle) in handlers(config, runs, changes).items():
        app.add_api_route(path, Guarded(sender, handle).respond, methods=["POST"])
    return app
