"""``POST /webhooks/airtable``: Airtable's signed ping, and the background reading of the
changes it announces.

The ping carries no data. The handler checks its MAC and answers at once; then, in the
background, ``AirtableChanges`` reads the change payloads after the saved cursor and launches
one run per created or changed mission or member, keyed
``airtable:{webhook}:{payload number}:{record}``.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.background import BackgroundTask

from cae.webhooks.airtable_registration import UnknownTable, mac_key, table_ids, webhook_context
from cae.webhooks.http import (
    BodyLimits,
    Rejected,
    answer,
    parse_json,
    read_json_body,
    required_header,
    signed,
)
from cae.webhooks.launcher import MEMBER, MISSION, Launcher
from cae.webhooks.stores import CursorStore
from integrations.airtable import AirtableClient, AirtableSettings
from integrations.refusals import SourceRefused, refused

logger = logging.getLogger(__name__)

AIRTABLE_MAC_HEADER = "x-airtable-content-mac"


@dataclass(frozen=True)
class AirtableWebhookConfig:
    """The webhook registered by ``create_webhook``, and how to read its payloads
    (``settings``: the base and a token allowed to manage its webhooks)."""

    webhook_id: str
    mac_secret_base64: str = field(repr=False)
    settings: AirtableSettings
    missions_table: str = "Missions"
    members_table: str = "Membres"

    def __post_init__(self) -> None:
        mac_key(self.mac_secret_base64)


class AirtableChanges:
    """Reads the payloads after the saved cursor and launches one run per changed record.

    One reading at a time; pings that arrive while one waits to start are served by it.
    """

    def __init__(
        self,
        config: AirtableWebhookConfig,
        cursors: CursorStore,
        launch: Launcher,
        deployment: str,
    ) -> None:
        self.config = config
        self.cursors = cursors
        self.launch = launch
        self.deployment = deployment
        self.client = AirtableClient(config.settings)
        self._kinds: dict[str, str] | None = None  # table id -> mission | member
        self._webhook: Any = None
        self._work = threading.Lock()
        self._state = threading.Lock()
        self._queued = False
        self._running = False

    @property
    def busy(self) -> bool:
        with self._state:
            return self._queued or self._running

    def schedule(self) -> bool:
        """True if a reading must be started; False if one is already waiting to start."""
        with self._state:
            if self._queued:
                return False
            self._queued = True
            return True

    def drain(self) -> None:
        with self._work:
            with self._state:
                self._queued = False
                self._running = True
            try:
                with refused(webhook_context(self.client)):
                    self._drain()
            except (UnknownTable, SourceRefused) as error:
                logger.error("Lecture des changements Airtable impossible : %s", error)
            except Exception as error:
                logger.error(
                    "Lecture des changements Airtable interrompue (%s) ; "
                    "elle reprendra à la prochaine notification.",
                    type(error).__name__,
                )
            finally:
                with self._state:
                    self._running = False

    def _drain(self) -> None:
        kinds = self._table_kinds()
        if self._webhook is None:
            self._webhook = self.client.base.webhook(self.config.webhook_id)
        webhook_id = self.config.webhook_id
        start = self.cursors.get(webhook_id) or 1
        cursor = start
        try:
            for payload in self._webhook.payloads(cursor=start):
                if not self._launch_payload(payload, kinds):
                    break
                cursor = payload.cursor + 1
        finally:
            if cursor != start:
                self.cursors.set(webhook_id, cursor)

    def _table_kinds(self) -> dict[str, str]:
        if self._kinds is None:
            missions, members = self.config.missions_table, self.config.members_table
            ids = table_ids(self.client, [missions, members])
            self._kinds = {ids[missions]: MISSION, ids[members]: MEMBER}
        return self._kinds

    def _launch_payload(self, payload: Any, kinds: dict[str, str]) -> bool:
        """Launch a run per created or changed mission or member; False if a launch failed,
        so that the cursor stays on this payload and the next reading starts it again."""
        if payload.error:
            logger.warning(
                "Airtable signale une erreur dans le payload n° %s (%s) : ignoré.",
                payload.cursor,
                payload.error_code,
            )
            return True
        for table_id, change in payload.changed_tables_by_id.items():
            kind = kinds.get(table_id)
            if kind is None:
                continue
            records = dict.fromkeys([*change.created_records_by_id, *change.changed_records_by_id])
            for record_id in records:
                key = f"airtable:{self.config.webhook_id}:{payload.cursor}:{record_id}"
                parameters = {"kind": kind, "record": record_id, "source": "airtable"}
                try:
                    self.launch(self.deployment, parameters, key)
                except Exception as error:
                    logger.error(
                        "Lancement de %s impossible (%s) pour %s ; nouvel essai à la prochaine "
                        "notification.",
                        self.deployment,
                        type(error).__name__,
                        key,
                    )
                    return False
                logger.info("Lancé : %s (%s %s).", key, kind, record_id)
        return True


@dataclass(frozen=True)
class AirtableHandler:
    """Checks a ping's MAC and that it names our webhook and base, then schedules a reading
    of the changes, run after the answer is sent."""

    changes: AirtableChanges
    limits: BodyLimits

    async def __call__(self, request: Request) -> JSONResponse:
        config = self.changes.config
        body = await read_json_body(request, self.limits)
        signature = required_header(request, AIRTABLE_MAC_HEADER, "Signature Airtable absente.")
        if not signed(signature, mac_key(config.mac_secret_base64), body, "hmac-sha256="):
            raise Rejected(401, "Signature Airtable invalide.")
        ping = parse_json(body)
        if not (
            isinstance(ping, dict)
            and isinstance(ping.get("webhook"), dict)
            and ping["webhook"].get("id") == config.webhook_id
            and isinstance(ping.get("base"), dict)
            and ping["base"].get("id") == config.settings.base_id
        ):
            raise Rejected(400, "Notification Airtable inattendue.")
        response = answer(200, statut="reçu")
        if self.changes.schedule():
            response.background = BackgroundTask(self.changes.drain)
        return response
