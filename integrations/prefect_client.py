"""A Prefect client that asks again soon when the Prefect server's database is busy.

A SQLite-backed Prefect server (``prefect server start``'s default) answers 503 when a
transaction finds the database taken by another writer: a flow run starting or ending writes
its states, task runs, logs and events at the same moment. Prefect's client then waits 2 s
before asking again (4 s the second time: ``2 ** attempt``, with no setting to shorten it).
A webhook's targeted run takes about 2 s in all, and at ``bench/latency.py``'s measure one
request in eight or so met a 503 while a run started: the receiver reading the payloads,
creating the flow run, claiming it, and every slot of the shared Airtable budget
(``integrations/shared_rate.py``).

``quick_client()`` is Prefect's synchronous client, with its URL, headers, TLS and CSRF
handling, whose transport asks again after a 503 within ``QUICK_RETRIES`` (0.75 s in all);
past them the answer goes back to Prefect's client, its retries and back-off. Used only for
``cae serve``'s own calls on the way from a webhook to its letter; the calls Prefect's engine
makes for a run keep Prefect's client. A proxy configured for the Prefect server (httpx's
mounts) keeps Prefect's behaviour.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
from prefect.client.orchestration import SyncPrefectClient, get_client

#: Prefect's answer when its database was busy.
BUSY = 503
#: The waits before asking again after a 503, before the answer goes to Prefect's client.
QUICK_RETRIES = (0.05, 0.1, 0.2, 0.4)


class QuickRetries(httpx.BaseTransport):
    """``inner``, asked again soon after a 503."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        for wait in QUICK_RETRIES:
            response = self.inner.handle_request(request)
            if response.status_code != BUSY:
                return response
            response.read()
            response.close()
            time.sleep(wait)
        return self.inner.handle_request(request)

    def __enter__(self) -> QuickRetries:
        self.inner.__enter__()
        return self

    def close(self) -> None:
        self.inner.close()


def quick_client() -> SyncPrefectClient:
    """``get_client(sync_client=True)``, asking again soon after a 503 (use it with ``with``)."""
    client = get_client(sync_client=True)
    http: Any = client._client  # Prefect's httpx client, built from Prefect's settings
    transport = getattr(http, "_transport", None)
    if isinstance(transport, httpx.BaseTransport) and not isinstance(transport, QuickRetries):
        http._transport = QuickRetries(transport)
    return client
