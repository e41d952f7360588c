"""``POST /webhooks/notion``: the subscription's verification token, then events signed with it.

The first, unsigned request carries the verification token, which is kept for the signatures
to come. Each signed ``page.*`` event in the missions or members data source then launches one
run, keyed ``notion:{event id}``; other events are acknowledged and ignored.
"""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from cae.webhooks.http import BodyLimits, Rejected, answer, parse_json, read_json_body, signed
from cae.webhooks.launcher import EVENT_ID, MEMBER, MISSION, RECORD_ID, TargetedRuns
from cae.webhooks.stores import TokenStore

logger = logging.getLogger(__name__)

NOTION_SIGNATURE_HEADER = "x-notion-signature"
MAX_TOKEN_LENGTH = 1024


@dataclass(frozen=True)
class NotionWebhookConfig:
    """The subscription's token store, and the missions' and members' data sources.

    An event names the page's parent by the data source id, or by the database id with older
    API versions: give the database ids too if the subscription may use one.
    ``accept_new_token``: let a new verification request replace a stored token (anyone may
    send one, unsigned; otherwise delete the stored token to subscribe again).
    """

    tokens: TokenStore
    missions_data_source: str
    members_data_source: str
    missions_database: str | None = None
    members_database: str | None = None
    accept_new_token: bool = False

    def kind_of_parent(self, parent_ids: list[str]) -> str | None:
        kinds = {
            _notion_id(i): kind
            for i, kind in (
                (self.missions_data_source, MISSION),
                (self.members_data_source, MEMBER),
                (self.missions_database, MISSION),
                (self.members_database, MEMBER),
            )
            if i
        }
        return next((kinds[p] for p in map(_notion_id, parent_ids) if p in kinds), None)


def _notion_id(value: str) -> str:
    """Notion writes ids with or without dashes."""
    return value.replace("-", "").lower()


def verify_subscription(config: NotionWebhookConfig, body: bytes) -> JSONResponse:
    """Notion's first, unsigned request: ``{"verification_token": "…"}``, kept for the
    signatures to come. A stored token is only replaced if the configuration allows it."""
    request = parse_json(body)
    token = request.get("verification_token") if isinstance(request, dict) else None
    if not (
        isinstance(token, str)
        and set(request) == {"verification_token"}
        and 0 < len(token) <= MAX_TOKEN_LENGTH
        and token.isprintable()
    ):
        raise Rejected(401, "Signature Notion absente.")
    stored = config.tokens.get()
    replacing = stored is not None and not hmac.compare_digest(stored.encode(), token.encode())
    if replacing and not config.accept_new_token:
        logger.warning(
            "Webhook Notion : nouveau jeton de vérification refusé, un autre est déjà "
            "enregistré (supprimez-le pour réabonner)."
        )
        raise Rejected(409, "Un jeton de vérification est déjà enregistré.")
    config.tokens.set(token)
    logger.info("Webhook Notion : jeton de vérification reçu et enregistré.")
    return answer(200, statut="jeton enregistré")


def notion_target(config: NotionWebhookConfig, event: Any) -> tuple[str, str, str] | None:
    """(kind, page id, event id) for a page event in the missions or members data source."""
    if not isinstance(event, dict):
        raise Rejected(400, "Évènement Notion invalide.")
    event_id, kind_name = event.get("id"), event.get("type")
    if not (isinstance(event_id, str) and EVENT_ID.match(event_id) and isinstance(kind_name, str)):
        raise Rejected(400, "Évènement Notion invalide.")
    if not kind_name.startswith("page."):
        return None
    entity = event.get("entity")
    data = event.get("data")
    parent = data.get("parent") if isinstance(data, dict) else None
    if not isinstance(entity, dict) or not isinstance(parent, dict):
        raise Rejected(400, "Évènement Notion invalide.")
    page_id = entity.get("id")
    if not (isinstance(page_id, str) and RECORD_ID.match(page_id)):
        raise Rejected(400, "Évènement Notion invalide.")
    parent_ids = [
        value
        for value in (parent.get("id"), parent.get("data_source_id"), parent.get("database_id"))
        if isinstance(value, str)
    ]
    kind = config.kind_of_parent(parent_ids)
    return None if kind is None else (kind, page_id, event_id)


@dataclass(frozen=True)
class NotionHandler:
    """An unsigned request is the verification handshake; a signed one, an event."""

    config: NotionWebhookConfig
    limits: BodyLimits
    runs: TargetedRuns

    async def __call__(self, request: Request) -> JSONResponse:
        body = await read_json_body(request, self.limits)
        signature = request.headers.get(NOTION_SIGNATURE_HEADER)
        if signature is None:
            return await run_in_threadpool(verify_subscription, self.config, body)
        token = await run_in_threadpool(self.config.tokens.get)
        if not token:
            raise Rejected(403, "Abonnement Notion non vérifié : aucun jeton enregistré.")
        if not signed(signature, token.encode("utf-8"), body, "sha256="):
            raise Rejected(401, "Signature Notion invalide.")
        target = notion_target(self.config, parse_json(body))
        if target is None:
            return answer(200, statut="ignoré")
        kind, record, event_id = target
        return await self.runs.start(kind, record, "notion", f"notion:{event_id}")
