"""Airtable's error answers (status and JSON body) and the bodies of injected faults."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An error answer: HTTP status and JSON body, as Airtable sends them."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


def _error(status: int, kind: str, message: str | None = None) -> ApiError:
    detail: dict[str, Any] = {"type": kind}
    if message is not None:
        detail["message"] = message
    return ApiError(status, {"error": detail})


def _not_found() -> ApiError:
    # An undefined route or a malformed id: Airtable answers a bare string.
    return ApiError(404, {"error": "NOT_FOUND"})


def _no_model() -> ApiError:
    # An unknown base or table (or one the token cannot see): 403, not 404, with a PAT.
    return _error(
        403,
        "INVALID_PERMISSIONS_OR_MODEL_NOT_FOUND",
        "Invalid permissions, or the requested model was not found. Check that both your user "
        "and your token have the required permissions, and that the model names and/or ids are "
        "correct.",
    )


def _invalid_request(detail: str | None = None) -> ApiError:
    message = "Invalid request: parameter validation failed. Check your request data."
    return _error(422, "INVALID_REQUEST_UNKNOWN", f"{message} ({detail})" if detail else message)


def _unknown_field(name: str) -> ApiError:
    return _error(422, "UNKNOWN_FIELD_NAME", f'Unknown field name: "{name}"')


def _bad_value(field_name: str) -> ApiError:
    return _error(
        422, "INVALID_VALUE_FOR_COLUMN", f'Field "{field_name}" cannot accept the provided value'
    )


RATE_LIMITED_BODY = {
    "errors": [
        {"error": "RATE_LIMIT_REACHED", "message": "Rate limit exceeded. Please try again later"}
    ]
}
#: The 429 Airtable answers to every request once the workspace has spent its monthly API calls.
QUOTA_EXCEEDED_BODY = {
    "errors": [
        {
            "error": "PUBLIC_API_BILLING_LIMIT_EXCEEDED",
            "message": "You have exceeded the monthly API call limit for this workspace.",
        }
    ]
}
FAULT_BODIES = {
    429: RATE_LIMITED_BODY,
    500: {"error": {"type": "SERVER_ERROR", "message": "Internal server error"}},
    502: {"error": {"type": "BAD_GATEWAY", "message": "Bad gateway"}},
    503: {"error": {"type": "SERVICE_UNAVAILABLE", "message": "Service unavailable"}},
    504: {"error": {"type": "GATEWAY_TIMEOUT", "message": "Gateway timeout"}},
}
CREATE_RECORDS_MESSAGE = (
    'You must provide an array of up to 10 record objects, each with a "fields" object for '
    "cell values."
)
UPDATE_RECORDS_MESSAGE = (
    'You must provide an array of up to 10 record objects, each with an "id" ID field and a '
    '"fields" object for cell values.'
)
DELETE_RECORDS_MESSAGE = "You must provide an array of up to 10 record IDs."
