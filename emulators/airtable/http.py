"""How the Airtable emulator handles one HTTP request, from the log entry to the answer."""

from __future__ import annotations

import copy
import time
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from emulators.airtable.errors import RATE_LIMITED_BODY, ApiError, _error, _no_model, _not_found
from emulators.airtable.model import (
    API_USER,
    MAX_URL_LENGTH,
    OPERATION_SCOPES,
    ApiRequest,
    _Base,
    _Route,
)
from emulators.airtable.params import _route, _sent_records
from emulators.loopback import Call, Outcome


class RequestHandling:
    """Request handling: the log entry, the answer or error, authentication, dispatch to
    ``_op_*``, and the per-base rate limit.

    Mixed into ``AirtableEmulator``, whose lookups (``_base``, ``_new_id``…) it uses.
    """

    def _request(self, call: Call) -> tuple[ApiRequest, _Route]:
        segments = [unquote(s) for s in call.path.split("/")[1:]]
        route = _route(call.method, segments, call.body)
        request = ApiRequest(
            method=call.method,
            path=unquote(call.path),
            base=route.base,
            table=self._table_label(route, call.body),
            operation=route.operation,
            query=call.query,
            body=call.body,
            record_count=_sent_records(route.operation, call.body, call.query),
            timestamp=time.time(),
        )
        return request, route

    def _answer(self, request: ApiRequest, route: _Route, call: Call) -> Outcome:
        try:
            if len(self._url or "") + len(call.target) > MAX_URL_LENGTH:
                raise _error(414, "URL_TOO_LONG", "The URL exceeds 16,000 characters")
            if call.body_error:
                raise _error(400, "INVALID_REQUEST_BODY", "Could not parse request body")
            if int(call.headers.get("Content-Length") or 0) > (self.max_body_bytes or 1 << 62):
                raise _error(413, "REQUEST_TOO_LARGE", "The request body is too large")
            status, payload = self._dispatch(route, call.headers, call.query, call.body)
        except ApiError as error:
            status, payload = error.status, error.body
        except Exception:  # a bug here must fail the test loudly, not hang the client
            status, payload = (
                500,
                {"error": {"type": "EMULATOR_BUG", "message": traceback.format_exc()}},
            )
        if route.operation == "list" and status == 200:
            request.record_count = len(payload["records"])
        return Outcome(status, payload)

    def _table_label(self, route: _Route, body: Any) -> str | None:
        if route.operation == "create_table" and isinstance(body, dict):
            name = body.get("name")
            return name if isinstance(name, str) else None
        if route.table is None:
            return None
        base = self._bases.get(route.base or "")
        table = base.table(route.table) if base else None
        return table.name if table else route.table

    def _dispatch(
        self, route: _Route, headers: Any, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if route.operation == "unknown":
            raise _not_found()
        if headers.get("Authorization") != f"Bearer {self.token}":
            raise _error(401, "AUTHENTICATION_REQUIRED", "Authentication required")
        if route.operation == "whoami":
            return 200, {"id": API_USER["id"], "scopes": list(self.scopes)}
        if OPERATION_SCOPES.get(route.operation, "webhook:manage") not in self.scopes:
            raise _no_model()
        if route.operation == "bases":
            return 200, {
                "bases": [
                    {"id": b.id, "name": b.name, "permissionLevel": "create"}
                    for b in self._bases.values()
                ]
            }
        base = self._bases.get(route.base or "")
        if base is None:
            raise _no_model()
        self._count_against_limit(base)
        handler: Callable[[_Base, _Route, dict[str, list[str]], Any], tuple[int, Any]]
        handler = getattr(self, f"_op_{route.operation}")
        return handler(base, route, query, body)

    def _count_against_limit(self, base: _Base) -> None:
        if self.rate_limit is None:
            return
        moment = time.monotonic()
        if moment < base.penalty_until:
            raise ApiError(429, copy.deepcopy(RATE_LIMITED_BODY))
        while base.window and base.window[0] <= moment - 1.0:
            base.window.popleft()
        if len(base.window) >= self.rate_limit:
            base.penalty_until = moment + self.penalty_seconds
            base.window.clear()  # the penalty outlasts the window: a fresh start after it
            raise ApiError(429, copy.deepcopy(RATE_LIMITED_BODY))
        base.window.append(moment)
