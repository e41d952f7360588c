"""How the Notion emulator handles one HTTP request, from the log entry to the answer."""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from emulators.loopback import Call, Outcome
from emulators.notion.errors import ApiError, _retry_after_header, _validation
from emulators.notion.helpers import _canonical_id, _route
from emulators.notion.model import (
    API_VERSION,
    CAPABILITY_NEEDED,
    FAULT_MESSAGES,
    NotionRequest,
    _DataSource,
    _Route,
)


class RequestHandling:
    """Request handling: the log entry, version and token checks, the token bucket, dispatch to
    ``_op_*``, and what the log records of each request.

    Mixed into ``NotionEmulator``, whose lookups (``_page``, ``_new_id``…) it uses.
    """

    def _request(self, call: Call) -> tuple[NotionRequest, tuple[_Route, str]]:
        route = _route(call.method, call.path)
        request = NotionRequest(
            method=call.method,
            path=unquote(call.path),
            operation=route.operation,
            query=call.query,
            body=call.body,
            timestamp=time.time(),
        )
        self._attribute(request, route, call.body)
        return request, (route, self._new_id())

    def _answer(self, request: NotionRequest, context: tuple[_Route, str], call: Call) -> Outcome:
        route, request_id = context
        try:
            status, payload = self._dispatch(
                route, call.headers, call.query, call.body, call.body_error
            )
            if isinstance(payload, dict) and payload.get("object") == "list":
                payload["request_id"] = request_id
                request.result_count = len(payload["results"])
            outcome = Outcome(status, payload)
            self._attribute_result(request, payload)
        except ApiError as error:
            outcome = Outcome(error.status, error.body(request_id), dict(error.headers))
        except Exception:  # a bug here must fail the test loudly, not hang the client
            outcome = Outcome(
                500,
                ApiError(
                    500, "internal_server_error", "Emulator bug:\n" + traceback.format_exc()
                ).body(request_id),
            )
        return outcome

    def _dispatch(
        self,
        route: _Route,
        headers: Any,
        query: dict[str, list[str]],
        body: Any,
        body_error: bool,
    ) -> tuple[int, Any]:
        version = headers.get("Notion-Version")
        if not version:
            raise ApiError(
                400,
                "missing_version",
                "Notion-Version header failed validation: Notion-Version header should be "
                "defined, instead was `undefined`.",
            )
        if version != API_VERSION:
            raise _validation(
                f"Notion-Version header failed validation: the emulator speaks {API_VERSION} "
                f"only, instead was `{version}`."
            )
        if headers.get("Authorization") != f"Bearer {self.token}":
            raise ApiError(401, "unauthorized", "API token is invalid.")
        self._take_token()
        if route.operation == "unknown":
            raise ApiError(400, "invalid_request_url", "Invalid request URL.")
        if body_error:
            raise ApiError(400, "invalid_json", "Error parsing JSON body.")
        needed = CAPABILITY_NEEDED.get(route.operation.split("_")[0], "read")
        if needed not in self.capabilities:
            raise ApiError(403, "restricted_resource", FAULT_MESSAGES["restricted_resource"])
        handler: Callable[[_Route, dict[str, list[str]], Any], tuple[int, Any]]
        handler = getattr(self, f"_op_{route.operation}")
        return handler(route, query, body)

    def _take_token(self) -> None:
        if self.rate is None:
            return
        moment = time.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (moment - self._refilled) * self.rate)
        self._refilled = moment
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return
        raise ApiError(
            429,
            "rate_limited",
            FAULT_MESSAGES["rate_limited"],
            {"Retry-After": _retry_after_header(self.retry_after)},
        )

    def _attribute(self, request: NotionRequest, route: _Route, body: Any) -> None:
        """Fill in the data source, database and page a request is about, where known."""
        object_id = _canonical_id(route.id)
        operation = route.operation
        source: _DataSource | None = None
        if operation in ("retrieve_data_source", "update_data_source", "query"):
            source = self._data_sources.get(object_id or "")
            request.data_source = object_id
        elif operation in ("retrieve_database", "update_database"):
            request.database = object_id
        elif operation in ("retrieve_page", "update_page", "retrieve_property"):
            request.page = object_id
            page = self._pages.get(object_id or "")
            if page is not None and page.data_source_id is not None:
                source = self._data_sources.get(page.data_source_id)
        elif operation == "create_page" and isinstance(body, dict):
            parent = body.get("parent") if isinstance(body.get("parent"), dict) else {}
            source = self._data_sources.get(_canonical_id(parent.get("data_source_id")) or "")
            database = self._databases.get(_canonical_id(parent.get("database_id")) or "")
            if database is not None and len(database.data_source_ids) == 1:
                source = self._data_sources.get(database.data_source_ids[0])
            if database is not None:
                request.database = database.id
        elif operation == "create_data_source" and isinstance(body, dict):
            parent = body.get("parent") if isinstance(body.get("parent"), dict) else {}
            request.database = _canonical_id(parent.get("database_id"))
        if source is not None:
            request.data_source = source.id
            request.database = source.database_id

    @staticmethod
    def _attribute_result(request: NotionRequest, payload: Any) -> None:
        if not isinstance(payload, dict):
            return
        if request.operation == "create_database":
            request.database = payload["id"]
            request.data_source = payload["data_sources"][0]["id"]
        elif request.operation == "create_data_source":
            request.data_source = payload["id"]
        elif request.operation == "create_page":
            request.page = payload["id"]
