"""The Notion emulator's webhook deliveries (verification, signed events)."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import string
from typing import Any

from emulators.loopback import post_webhook
from emulators.notion.helpers import _body_id, _iso_ms
from emulators.notion.model import (
    API_VERSION,
    INTEGRATION_ID,
    STAFF_USER_ID,
    SUBSCRIPTION_ID,
    WORKSPACE_ID,
)


class Webhooks:
    """Webhook deliveries: the verification token, signed page events, and their log.

    Mixed into ``NotionEmulator``, whose lookups (``_page``, ``_new_id``…) it uses.
    """

    def webhook_verification(self, url: str, *, timeout: float = 60.0) -> str:
        """POST the subscription's verification token to ``url``, unsigned, as Notion does
        when a webhook subscription is created; return the token."""
        with self._lock:
            alphabet = string.ascii_letters + string.digits
            token = "secret_" + "".join(self._random.choice(alphabet) for _ in range(43))
        body = json.dumps({"verification_token": token}).encode("utf-8")
        self._deliver(url, body, {"Content-Type": "application/json"}, timeout)
        return token

    def page_event(
        self,
        page_id: str,
        event_type: str = "page.properties_updated",
        *,
        updated_properties: list[str] | None = None,
    ) -> dict[str, Any]:
        """The ``type``, ``entity`` and ``data`` of an event about a page, for ``send_event``.
        Events carry ids only: ``updated_properties`` are property ids."""
        with self._lock:
            page = self._page(_body_id(page_id, "page_id"))
            if page.data_source_id is not None:
                source = self._data_sources[page.data_source_id]
                parent = {
                    "id": source.database_id,
                    "type": "database",
                    "data_source_id": source.id,
                }
            else:
                parent = {"id": page.parent_page_id or WORKSPACE_ID, "type": "page"}
            data: dict[str, Any] = {"parent": parent}
            if event_type == "page.properties_updated":
                data["updated_properties"] = list(updated_properties or [])
            return {"type": event_type, "entity": {"id": page.id, "type": "page"}, "data": data}

    def send_event(
        self, url: str, token: str, event: dict[str, Any], *, timeout: float = 60.0
    ) -> int | None:
        """POST an event to ``url`` signed with ``token`` (``X-Notion-Signature: sha256=<hex
        HMAC-SHA256 of the raw body>``); return the HTTP status, None if unreachable.

        ``event`` is completed with the envelope Notion sends (``id``, ``timestamp``,
        ``workspace_id``, ``subscription_id``, ``integration_id``, ``authors``,
        ``attempt_number``, ``api_version``); what it gives wins."""
        with self._lock:
            envelope: dict[str, Any] = {
                "id": self._new_id(),
                "timestamp": _iso_ms(self._now()),
                "workspace_id": WORKSPACE_ID,
                "workspace_name": "Emulated workspace",
                "subscription_id": SUBSCRIPTION_ID,
                "integration_id": INTEGRATION_ID,
                "authors": [{"id": STAFF_USER_ID, "type": "person"}],
                "attempt_number": 1,
                "api_version": API_VERSION,
                "type": "page.properties_updated",
                "entity": {},
                "data": {},
            }
        envelope.update(copy.deepcopy(event))
        body = json.dumps(envelope, ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "X-Notion-Signature": self.signature(token, body),
        }
        return self._deliver(url, body, headers, timeout)

    @staticmethod
    def signature(token: str, body: bytes) -> str:
        """The ``X-Notion-Signature`` value for a body."""
        return "sha256=" + hmac.new(token.encode("utf-8"), body, hashlib.sha256).hexdigest()

    @property
    def webhook_deliveries(self) -> list[dict[str, Any]]:
        """Every webhook POST: ``{"url", "body" (bytes), "headers", "status"}``."""
        with self._lock:
            return copy.deepcopy(self._deliveries)

    def _deliver(
        self, url: str, body: bytes, headers: dict[str, str], timeout: float
    ) -> int | None:
        status = post_webhook(url, body, headers, timeout)
        with self._lock:
            self._deliveries.append(
                {"url": url, "body": body, "headers": dict(headers), "status": status}
            )
        return status
