"""For the webhook receiver's tests: signing as Airtable and Notion do, and a receiver for all
three senders (Airtable, Notion, the generic endpoint) keeping its files in one folder."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path
from typing import Any

from cae.webhooks import (
    AirtableWebhookConfig,
    FileCursorStore,
    FileTokenStore,
    NotionWebhookConfig,
    ReceiverConfig,
)


def airtable_mac(body: bytes, secret: str) -> str:
    """The ``X-Airtable-Content-MAC`` header for ``body``, with the base64 MAC secret."""
    return "hmac-sha256=" + hmac.new(base64.b64decode(secret), body, hashlib.sha256).hexdigest()


def notion_signature(body: bytes, token: str) -> str:
    """The ``X-Notion-Signature`` header for ``body``, with the verification token."""
    return "sha256=" + hmac.new(token.encode(), body, hashlib.sha256).hexdigest()


def all_senders(
    folder: Path,
    airtable: AirtableWebhookConfig,
    notion_sources: tuple[str, str],
    generic_secret: str,
    **changes: Any,
) -> ReceiverConfig:
    """A receiver for all three senders: Notion's token in ``folder/notion-token``, Airtable's
    cursors in ``folder/cursors.json``; ``notion_sources`` are the missions' and members' data
    sources; ``changes`` override any setting."""
    missions, members = notion_sources
    options: dict[str, Any] = {
        "airtable": airtable,
        "notion": NotionWebhookConfig(FileTokenStore(folder / "notion-token"), missions, members),
        "generic_secret": generic_secret,
        "cursor_store": FileCursorStore(folder / "cursors.json"),
        **changes,
    }
    return ReceiverConfig(**options)
