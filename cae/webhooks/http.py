"""What every webhook endpoint does with HTTP: read the body within its size and time limits,
insist on JSON, compare signatures in constant time, and answer in short French JSON.

A request refused for what it is (unsigned, too big, too slow, not JSON…) raises ``Rejected``
with its 4xx status and message; the app turns it into ``{"erreur": "…"}``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

DEFAULT_MAX_BODY_BYTES = 64 * 1024
#: How long a client may take to send its body once its headers are in (slow clients).
DEFAULT_BODY_TIMEOUT_SECONDS = 10.0

#: The French answers to the requests the router itself refuses.
HTTP_MESSAGES = {
    404: "Adresse inconnue.",
    405: "Méthode non autorisée.",
}


class Rejected(Exception):
    """A request refused, with its status and a short French reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class BodyLimits:
    """How big a body may be, and how long it may take to arrive."""

    max_bytes: int = DEFAULT_MAX_BODY_BYTES
    timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS


def answer(status: int, **content: Any) -> JSONResponse:
    return JSONResponse(content, status_code=status)


def refusal(status: int, message: str) -> JSONResponse:
    return answer(status, erreur=message)


async def read_json_body(request: Request, limits: BodyLimits) -> bytes:
    """The raw body of a request that says it is JSON (415 otherwise)."""
    require_json(request)
    return await read_body(request, limits)


def require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Rejected(415, "Le corps doit être du JSON (Content-Type: application/json).")


async def read_body(request: Request, limits: BodyLimits) -> bytes:
    """The raw body, refused over ``limits.max_bytes`` by its Content-Length or as read, and
    when it takes more than ``limits.timeout_seconds`` to arrive (a client trickling or
    stalling)."""
    limit = limits.max_bytes
    declared = request.headers.get("content-length")
    if declared is not None:
        digits = declared.strip()
        if not (digits.isascii() and digits.isdigit()):
            raise Rejected(400, "En-tête Content-Length invalide.")
        if len(digits.lstrip("0")) > len(str(limit)) or int(digits) > limit:
            raise Rejected(413, "Corps de requête trop volumineux.")
    body = bytearray()
    try:
        async with asyncio.timeout(limits.timeout_seconds):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise Rejected(413, "Corps de requête trop volumineux.")
    except TimeoutError:
        raise Rejected(408, "Corps de requête reçu trop lentement.") from None
    except ClientDisconnect:
        raise Rejected(400, "Requête interrompue par le client.") from None
    return bytes(body)


def parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Rejected(400, "Corps JSON invalide.") from None


def same(received: str, expected: str) -> bool:
    """Whether a header equals the expected value, compared in constant time."""
    # Starlette decodes headers as Latin-1: encoding back gives the bytes as sent.
    return hmac.compare_digest(received.encode("latin-1"), expected.encode("utf-8"))


def signed(signature: str, key: bytes, body: bytes, scheme: str) -> bool:
    """Whether ``signature`` is ``{scheme}{hex HMAC-SHA256 of body}``, compared in constant
    time."""
    return same(signature, scheme + hmac.new(key, body, hashlib.sha256).hexdigest())


def required_header(request: Request, name: str, missing: str) -> str:
    """The header's value; 401 with the message ``missing`` when it is absent or empty."""
    value = request.headers.get(name)
    if not value:
        raise Rejected(401, missing)
    return value
