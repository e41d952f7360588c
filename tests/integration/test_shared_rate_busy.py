"""A slot of the shared budget (``integrations/shared_rate.py``) when the Prefect server's
database is busy: a SQLite-backed server answers 503, and Prefect's client would ask again
only 2 s later (4 s the time after), longer than a targeted run's whole work. The slot is
asked again within a fraction of a second. The server here answers as Prefect's does: two
503s, then the slot."""

from __future__ import annotations

import time

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.loopback import ServedApp

NAME = "cae-rate-airtable-appBUSY"


def busy_server(busy: int) -> tuple[Starlette, list[float]]:
    """A Prefect API whose slot requests meet a busy database ``busy`` times, then succeed."""
    asked: list[float] = []

    async def increment(request: Request) -> JSONResponse:
        asked.append(time.monotonic())
        if len(asked) <= busy:
            return JSONResponse({"exception_message": "Service Unavailable"}, status_code=503)
        body = await request.json()
        assert body == {"names": [NAME], "slots": 1, "mode": "rate_limit"}
        limit = {"id": "6f1c5d2e-0000-4000-8000-000000000001", "name": NAME, "limit": 1}
        return JSONResponse([limit])

    async def other(request: Request) -> JSONResponse:
        return JSONResponse({"detail": "Not Found"}, status_code=404)

    routes = [
        Route("/api/v2/concurrency_limits/increment", increment, methods=["POST"]),
        Route("/api/{path:path}", other, methods=["GET", "POST"]),
    ]
    return Starlette(routes=routes), asked


def test_a_busy_prefect_database_delays_a_slot_by_less_than_a_second():
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from integrations.shared_rate import Slots

    app, asked = busy_server(busy=2)
    with ServedApp(app) as served, temporary_settings({PREFECT_API_URL: f"{served.url}/api"}):
        began = time.monotonic()
        Slots(NAME).take(0.3)
        took = time.monotonic() - began
    assert len(asked) == 3
    assert took < 1.0, f"{took:.2f} s for a slot after two 503s"


def test_past_the_quick_retries_prefects_client_asks_again():
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from integrations.prefect_client import QUICK_RETRIES
    from integrations.shared_rate import Slots

    app, asked = busy_server(busy=len(QUICK_RETRIES))
    with ServedApp(app) as served, temporary_settings({PREFECT_API_URL: f"{served.url}/api"}):
        Slots(NAME).take(0.3)
    assert len(asked) == len(QUICK_RETRIES) + 1
