"""Airtable's webhook for the receiver (``cae.webhooks``): register it, keep it alive, keep its
secret. ``cae airtable webhook create|refresh`` calls these.

Airtable tells a URL that something changed in a base with a signed ping; the receiver then
reads the changes after its cursor. The MAC secret that signs the pings is shown once, when the
webhook is created, so it is saved at once, as a Prefect Secret block or a file only its owner
may read. A webhook expires 7 days after its creation or last refresh (Airtable's rule): refresh it
daily.

    >>> client = AirtableClient(AirtableSettings.from_environment())       # doctest: +SKIP
    >>> hook = create_webhook(client, "https://cae.example/webhooks/airtable",
    ...                       ["Missions", "Membres"])                      # doctest: +SKIP
    >>> save_webhook_secret("cae-airtable-webhook", hook.webhook_id,
    ...                     hook.mac_secret_base64)                         # doctest: +SKIP
    >>> refresh_webhook(client, hook.webhook_id)                            # doctest: +SKIP
    datetime.datetime(2026, 12, 3, 9, 0, tzinfo=datetime.timezone.utc)
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from cae.webhooks.stores import write_private_file
from integrations.airtable import AirtableClient
from integrations.refusals import Context, refused


class UnknownTable(ValueError):
    """The base has no table of that name; the message is in French, for the staff."""


class CreatedWebhook(NamedTuple):
    """What Airtable answers once, on creation: keep the secret, it is never shown again."""

    webhook_id: str
    mac_secret_base64: str
    expiration: datetime | None

    def __repr__(self) -> str:
        return f"CreatedWebhook(webhook_id={self.webhook_id!r}, expiration={self.expiration!r})"


@dataclass(frozen=True)
class WebhookSecret:
    """The webhook's id and the base64 MAC secret that signs its pings."""

    webhook_id: str
    mac_secret_base64: str = field(repr=False)

    def __post_init__(self) -> None:
        if not self.webhook_id:
            raise ValueError("Identifiant du webhook Airtable vide.")
        mac_key(self.mac_secret_base64)


def mac_key(mac_secret_base64: str) -> bytes:
    """The HMAC key: the secret as Airtable gives it, base64-decoded."""
    try:
        key = base64.b64decode(mac_secret_base64, validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if not key:
        raise ValueError("Le secret du webhook Airtable n'est pas un base64 valide.")
    return key


def table_ids(client: AirtableClient, names: Sequence[str]) -> dict[str, str]:
    """The id of each named table, from the base schema (one Meta API call, cached by
    pyairtable for the client's lifetime)."""
    schema = client.base.schema()
    found: dict[str, str] = {}
    for name in names:
        try:
            found[name] = schema.table(name).id
        except KeyError:
            raise UnknownTable(f"La base Airtable n'a pas de table « {name} ».") from None
    return found


def webhook_specification(ids: Sequence[str], field_ids: Sequence[str] = ()) -> dict[str, Any]:
    """Record changes ("tableData") in the given tables; with ``field_ids``, only changes to
    those fields (the ones the rules read), so the inverse link fields Airtable updates when a
    run writes its ledger rows ping nobody.

    ``recordChangeScope`` takes one table (or view) id, not a list nor a base: a webhook on one
    table is scoped to it, one on several tables watches the whole base and the receiver keeps
    only the changes of the tables it knows.
    """
    filters: dict[str, Any] = {"dataTypes": ["tableData"]}
    if len(ids) == 1:
        filters["recordChangeScope"] = ids[0]
    if field_ids:
        filters["watchDataInFieldIds"] = list(field_ids)
    return {"options": {"filters": filters}}


def create_webhook(
    client: AirtableClient,
    notification_url: str,
    tables: Sequence[str],
    fields: dict[str, Sequence[str]] | None = None,
) -> CreatedWebhook:
    """Register a webhook that pings ``notification_url`` when records of ``tables`` (names)
    are created or changed — only in ``fields`` (labels by table) when given; return its id,
    its MAC secret and its expiration."""
    if not tables:
        raise ValueError("Indiquez au moins une table à surveiller.")
    with refused(webhook_context(client)):
        ids = table_ids(client, tables)
        schema = client.base.schema()
        watched = [
            found.id
            for table, labels in (fields or {}).items()
            for found in schema.table(table).fields
            if found.name in labels
        ]
        created = client.base.add_webhook(
            notification_url, webhook_specification([ids[name] for name in tables], watched)
        )
    return CreatedWebhook(created.id, created.mac_secret_base64, created.expiration_time)


def refresh_webhook(client: AirtableClient, webhook_id: str) -> datetime | None:
    """Push the webhook's expiration 7 days back; return the new expiration."""
    with refused(webhook_context(client)):
        response = client.api.post(client.base.urls.webhooks / webhook_id / "refresh")
    value = response.get("expirationTime") if isinstance(response, dict) else None
    return datetime.fromisoformat(value) if value else None


def webhook_context(client: AirtableClient) -> Context:
    """What a refusal of the webhook's requests names: the base, and the scopes they need."""
    return Context("airtable", "webhook", base=client.settings.base_id)


def _is_path(name: str | os.PathLike[str]) -> bool:
    return not isinstance(name, str) or os.sep in name or name.endswith(".json")


def save_webhook_secret(
    name: str | os.PathLike[str], webhook_id: str, mac_secret_base64: str
) -> None:
    """Keep the webhook's id and secret: in the Prefect Secret block ``name`` (a JSON value),
    or, when ``name`` is a path (a ``Path``, or a string with a ``/`` or ending in ``.json``),
    in that file, mode 0600."""
    secret = WebhookSecret(webhook_id, mac_secret_base64)
    value = {"webhook_id": secret.webhook_id, "mac_secret_base64": secret.mac_secret_base64}
    if _is_path(name):
        write_private_file(Path(name), json.dumps(value) + "\n")
        return
    from prefect.blocks.system import Secret

    Secret(value=value).save(str(name), overwrite=True, _sync=True)  # type: ignore[arg-type, call-arg]


def load_webhook_secret(name: str | os.PathLike[str]) -> WebhookSecret:
    """The id and secret saved by ``save_webhook_secret`` under the same ``name``."""
    if _is_path(name):
        try:
            value: Any = json.loads(Path(name).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"Fichier du secret du webhook Airtable absent : {name}") from None
        except ValueError:
            raise ValueError(f"Fichier du secret du webhook Airtable illisible : {name}") from None
    else:
        from prefect.blocks.system import Secret

        value = Secret.load(str(name), _sync=True).get()  # type: ignore[call-arg, union-attr]
    if not isinstance(value, dict) or not all(
        isinstance(value.get(key), str) for key in ("webhook_id", "mac_secret_base64")
    ):
        raise ValueError(f"Le secret « {name} » ne contient pas webhook_id et mac_secret_base64.")
    return WebhookSecret(value["webhook_id"], value["mac_secret_base64"])
