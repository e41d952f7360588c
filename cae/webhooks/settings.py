"""The receiver's settings: which senders it accepts and its limits (``ReceiverConfig``), and
how ``cae serve`` reads them from the environment (secrets never on the command line):

- ``CAE_WEBHOOK_SECRET``: the shared secret of ``/webhooks/generic``;
- ``CAE_AIRTABLE_WEBHOOK``: where ``cae airtable webhook create`` saved the webhook's id and MAC
  secret (a Prefect Secret block name, or a file path), with the ``AIRTABLE_*`` variables;
- ``CAE_NOTION_MISSIONS_DATA_SOURCE`` and ``CAE_NOTION_MEMBERS_DATA_SOURCE`` for
  ``/webhooks/notion``; its verification token is kept in ``CAE_STATE_DIR/notion-token``.

``CAE_STATE_DIR`` (default ``./.cae-state``) holds the Airtable payload cursor and the Notion
token, each readable by its owner only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cae.webhooks.airtable import AirtableWebhookConfig
from cae.webhooks.airtable_registration import load_webhook_secret
from cae.webhooks.http import DEFAULT_BODY_TIMEOUT_SECONDS, DEFAULT_MAX_BODY_BYTES, BodyLimits
from cae.webhooks.notion import NotionWebhookConfig
from cae.webhooks.stores import CursorStore, FileCursorStore, FileTokenStore
from integrations.remote import airtable_settings
from settings.config import Config


@dataclass(frozen=True)
class ReceiverConfig:
    """Each sender left out (``None``) has its endpoint answer 404."""

    airtable: AirtableWebhookConfig | None = None
    notion: NotionWebhookConfig | None = None
    generic_secret: str | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS
    cursor_store: CursorStore | None = None
    targeted_deployment: str = "targeted/targeted"

    def __post_init__(self) -> None:
        if self.airtable is not None and self.cursor_store is None:
            raise ValueError("Le webhook Airtable demande un cursor_store.")
        if self.generic_secret is not None and not self.generic_secret:
            raise ValueError("Le secret du point d'entrée générique est vide.")

    @property
    def limits(self) -> BodyLimits:
        return BodyLimits(self.max_body_bytes, self.body_timeout_seconds)


def receiver_config_from_environment(
    data: str | None, config: str | None, environ: Mapping[str, str] = os.environ
) -> ReceiverConfig:
    """The receiver of ``cae serve``: ``data`` and ``config`` locate ``cae.toml`` (its Airtable
    base and table names), the environment says which senders are accepted."""
    state = Path(environ.get("CAE_STATE_DIR", ".cae-state"))
    airtable = None
    if environ.get("CAE_AIRTABLE_WEBHOOK"):
        found = Config.find(Path(data) if data else Path.cwd(), Path(config) if config else None)
        secret = load_webhook_secret(environ["CAE_AIRTABLE_WEBHOOK"])
        airtable = AirtableWebhookConfig(
            secret.webhook_id,
            secret.mac_secret_base64,
            airtable_settings(found),
            missions_table=found.schema.label("missions"),
            members_table=found.schema.label("members"),
        )
    notion = None
    missions_ds = environ.get("CAE_NOTION_MISSIONS_DATA_SOURCE")
    members_ds = environ.get("CAE_NOTION_MEMBERS_DATA_SOURCE")
    if missions_ds and members_ds:
        notion = NotionWebhookConfig(
            FileTokenStore(state / "notion-token"), missions_ds, members_ds
        )
    return ReceiverConfig(
        airtable=airtable,
        notion=notion,
        generic_secret=environ.get("CAE_WEBHOOK_SECRET") or None,
        cursor_store=FileCursorStore(state / "airtable-cursors.json") if airtable else None,
    )
