"""``POST /webhooks/generic``: a call guarded by a shared secret, for an Airtable automation
script, Make, Zapier or n8n.

The body is ``{"table", "record", "source", "event"?}``; the run is keyed ``generic:{event}``, or
``generic:{sha256 of the body}`` without an event id.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse

from cae.webhooks.http import (
    BodyLimits,
    Rejected,
    parse_json,
    read_json_body,
    required_header,
    same,
)
from cae.webhooks.launcher import EVENT_ID, MEMBER, MISSION, RECORD_ID, TargetedRuns

GENERIC_SECRET_HEADER = "x-cae-secret"
#: The generic endpoint's table names, as the staff see them in Airtable.
GENERIC_TABLES = {"Missions": MISSION, "Membres": MEMBER}
GENERIC_SOURCES = frozenset({"airtable", "notion", "local"})


def generic_request(request: Any) -> tuple[str, str, str, str | None]:
    """(kind, record, source, event id) from ``{"table", "record", "source", "event"?}``."""
    if not isinstance(request, dict):
        raise Rejected(422, "Le corps doit être un objet JSON.")
    unknown = set(request) - {"table", "record", "source", "event"}
    if unknown:
        raise Rejected(422, f"Champ inconnu : {sorted(unknown)[0][:40]!r}.")
    table, record = request.get("table"), request.get("record")
    source, event = request.get("source"), request.get("event")
    if not isinstance(table, str) or table not in GENERIC_TABLES:
        raise Rejected(422, "Table inconnue : « table » vaut « Missions » ou « Membres ».")
    if not isinstance(record, str) or not RECORD_ID.match(record):
        raise Rejected(422, "Identifiant de fiche invalide (« record »).")
    if not isinstance(source, str) or source not in GENERIC_SOURCES:
        raise Rejected(422, "Source inconnue : « source » vaut airtable, notion ou local.")
    if event is not None and not (isinstance(event, str) and EVENT_ID.match(event)):
        raise Rejected(422, "Identifiant d'évènement invalide (« event »).")
    return GENERIC_TABLES[table], record, source, event


@dataclass(frozen=True)
class GenericHandler:
    """Checks the shared secret, then launches the run the body names."""

    secret: str = field(repr=False)
    limits: BodyLimits
    runs: TargetedRuns

    async def __call__(self, request: Request) -> JSONResponse:
        body = await read_json_body(request, self.limits)
        given = required_header(
            request, GENERIC_SECRET_HEADER, "Secret absent (en-tête X-CAE-Secret)."
        )
        if not same(given, self.secret):
            raise Rejected(401, "Secret invalide.")
        kind, record, source, event = generic_request(parse_json(body))
        key = f"generic:{event}" if event else "generic:" + hashlib.sha256(body).hexdigest()
        return await self.runs.start(kind, record, source, key)
