"""Notion's error answers (``{"object": "error", …}``), the gateway's HTML page, and
``Retry-After``."""

from __future__ import annotations

import contextlib
import json
from typing import Any


class ApiError(Exception):
    """An error answer: status, Notion's code and message (and extra headers, for 429)."""

    def __init__(
        self, status: int, code: str, message: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "object": "error",
            "status": self.status,
            "code": self.code,
            "message": self.message,
            "request_id": request_id,
        }


def _validation(message: str) -> ApiError:
    return ApiError(400, "validation_error", message)


def _shown(value: Any) -> str:
    if value is None:
        return "undefined"
    with contextlib.suppress(TypeError, ValueError):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _invalid(path: str, expectation: str, value: Any) -> ApiError:
    return _validation(
        f"body failed validation: {path} should be {expectation}, instead was `{_shown(value)}`."
    )


def _not_found(kind: str, object_id: str, hint: str = "") -> ApiError:
    message = (
        f"Could not find {kind} with ID: {object_id}. Make sure the relevant pages and "
        "databases are shared with your integration."
    )
    return ApiError(404, "object_not_found", message + hint)


def _gateway_page(status: int) -> bytes:
    """What the gateway in front of Notion answers on its own: HTML, no Notion error JSON."""
    reason = {502: "Bad Gateway", 529: "Site is overloaded"}.get(status, "Error")
    line = f"{status} {reason}"
    return (
        f"<html>\r\n<head><title>{line}</title></head>\r\n<body>\r\n"
        f"<center><h1>{line}</h1></center>\r\n</body>\r\n</html>\r\n"
    ).encode("ascii")


def _retry_after_header(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)
