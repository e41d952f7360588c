"""The webhook receiver: Airtable, Notion or a no-code tool says a record changed, and the
targeted flow (``flows/targeted.py``) runs for that mission or member.

Self-hosted Prefect has no webhooks, so this small ASGI app checks each sender's signature,
then calls ``run_deployment(…, timeout=0, idempotency_key=…)``. Every change has a key of its
own, stable however often it is notified, and Prefect starts one flow run per key: a
notification sent twice, late or replayed starts nothing new.

- ``POST /webhooks/airtable`` (``airtable.py``): Airtable's signed ping carries no data. The
  receiver answers at once, then, in the background, reads the change payloads after its saved
  cursor and launches one run per changed mission or member; key
  ``airtable:{webhook}:{payload number}:{record}``. Registering the webhook and keeping its
  secret: ``airtable_registration.py`` (``cae airtable webhook create|refresh``).
- ``POST /webhooks/notion`` (``notion.py``): the subscription's verification token, then events
  signed with it; one run per ``page.*`` event in the missions or members data source; key
  ``notion:{event id}``.
- ``POST /webhooks/generic`` (``generic.py``): a shared secret, for an Airtable automation
  script, Make, Zapier or n8n; key ``generic:{event}``, or ``generic:{sha256 of the body}``
  without an event id.
- ``GET /healthz``.

The rest: ``http.py`` (body limits, JSON, signatures, refusals), ``stores.py`` (the Notion token
and the Airtable cursors), ``launcher.py`` (starting a run), ``settings.py`` (``ReceiverConfig``,
and reading it from the environment) and ``app.py`` (routes and the error policy).

A bad request gets a 4xx with a short French message ``{"erreur": "…"}``; a bug gets a 500,
logged with its traceback. Secrets, tokens and signatures are never logged.

    >>> app = create_app(ReceiverConfig(generic_secret="…"), prefect_launcher())  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8787)                            # doctest: +SKIP
"""

from cae.webhooks.airtable import AirtableWebhookConfig
from cae.webhooks.app import create_app
from cae.webhooks.launcher import Launcher, prefect_launcher
from cae.webhooks.notion import NotionWebhookConfig
from cae.webhooks.settings import ReceiverConfig
from cae.webhooks.stores import CursorStore, FileCursorStore, FileTokenStore, TokenStore

__all__ = [
    "AirtableWebhookConfig",
    "CursorStore",
    "FileCursorStore",
    "FileTokenStore",
    "Launcher",
    "NotionWebhookConfig",
    "ReceiverConfig",
    "TokenStore",
    "create_app",
    "prefect_launcher",
]
