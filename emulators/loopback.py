"""The part every emulator shares: a fault-injecting HTTP server on 127.0.0.1 with a request log.

An emulator subclasses ``LoopbackEmulator`` and writes two methods: ``_request(call)``, the log
entry for a ``Call``, and ``_answer(request, context, call) -> Outcome``, what the service does
with it. This module gives it:

- the lifecycle: ``start``/``stop``, use as a context manager, ``url``;
- fault injection: ``inject_delay``, ``inject_disconnect``, ``clear_faults`` (each emulator adds
  its own ``inject``, since an error body is in its service's format);
- the request log: ``requests``, ``count_429``, ``reset_counts`` and ``_count_matching``;
- ``post_webhook``, for an emulator that calls a receiver back.

The server speaks HTTP/1.1 with keep-alive, answers JSON (or bytes as they are, as HTML), and on
``stop`` closes kept-alive connections so that no client reaches a stopped emulator.
"""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qs

Request = TypeVar("Request")


@dataclass
class Fault(Generic[Request]):
    """One injected fault, waiting for the ``remaining`` requests that ``when`` accepts."""

    kind: str  # status, delay, disconnect
    remaining: int
    when: Callable[[Request], bool] | None
    status: int = 0
    body: Any = None  # JSON, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0
    after_processing: bool = False


@dataclass
class Outcome:
    """What the server does with one request: an answer, a delay before it, or a dropped line."""

    status: int = 200
    body: Any = None  # JSON, or bytes sent as they are
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    disconnect: bool = False


@dataclass
class Call:
    """One HTTP request as it arrived: the target split into path and query, the body parsed."""

    method: str
    target: str  # path and query string, as sent
    path: str  # still percent-encoded
    query: dict[str, list[str]]
    headers: Any
    body: Any = None  # the JSON body, None without one
    body_error: bool = False  # a body was sent but is not JSON


class LoopbackEmulator(Generic[Request]):
    """A service on 127.0.0.1 (random port) with fault injection and a log of ``Request``s."""

    thread_name = "loopback-emulator"

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._log: list[Request] = []
        self._faults: list[Fault[Request]] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._url: str | None = None

    # -- lifecycle ----------------------------------------------------------------------

    def start(self) -> Self:
        self._server = _Server(self)
        self._url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name=self.thread_name,
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._url = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The root URL to give the client."""
        if self._url is None:
            raise RuntimeError("the emulator is not running")
        return self._url

    # -- faults ----------------------------------------------------------------------------

    def inject_delay(
        self, seconds: float, count: int = 1, when: Callable[[Request], bool] | None = None
    ) -> None:
        """Process the next ``count`` matching requests, then wait ``seconds`` before answering."""
        with self._lock:
            self._faults.append(Fault("delay", count, when, seconds=seconds, after_processing=True))

    def inject_disconnect(
        self,
        count: int = 1,
        when: Callable[[Request], bool] | None = None,
        *,
        after_processing: bool = False,
    ) -> None:
        """Close the connection of the next ``count`` matching requests without an answer;
        with ``after_processing`` the request is applied first (the answer is what is lost)."""
        with self._lock:
            self._faults.append(Fault("disconnect", count, when, after_processing=after_processing))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _matching_fault(self, request: Request, after_processing: bool) -> Fault[Request] | None:
        for fault in self._faults:
            if fault.remaining <= 0 or fault.after_processing != after_processing:
                continue
            if fault.when is None or fault.when(request):
                fault.remaining -= 1
                return fault
        return None

    def _pre_fault(self, request: Request) -> Outcome | None:
        """The answer of a fault that replaces processing, or None to process the request."""
        fault = self._matching_fault(request, after_processing=False)
        if fault is None:
            return None
        if fault.kind == "disconnect":
            return Outcome(disconnect=True)
        body = fault.body if isinstance(fault.body, bytes) else copy.deepcopy(fault.body)
        return Outcome(fault.status, body, dict(fault.headers))

    def _post_fault(self, request: Request, outcome: Outcome) -> None:
        """Apply a fault that strikes after processing: a delay, or the answer lost."""
        fault = self._matching_fault(request, after_processing=True)
        if fault is None:
            return
        if fault.kind == "disconnect":
            outcome.disconnect = True
        else:
            outcome.delay = fault.seconds

    # -- counting --------------------------------------------------------------------------

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._log)

    def _count_matching(self, **criteria: Any) -> int:
        """How many logged requests have every attribute given (None: any value)."""
        wanted = {name: value for name, value in criteria.items() if value is not None}
        with self._lock:
            return sum(
                1
                for request in self._log
                if all(getattr(request, name) == value for name, value in wanted.items())
            )

    def count_429(self) -> int:
        return self._count_matching(status=429)

    def reset_counts(self) -> None:
        with self._lock:
            self._log.clear()

    # -- request handling: the two methods an emulator writes -------------------------------

    def _handle(self, method: str, target: str, headers: Any, raw_body: bytes) -> Outcome:
        """Log the request and answer it: with a fault injected before processing, or with the
        service's answer (``_answer``), then with a fault injected after."""
        path, _, query_string = target.partition("?")
        call = Call(method, target, path, parse_qs(query_string, keep_blank_values=True), headers)
        if raw_body:
            try:
                call.body = json.loads(raw_body)
            except ValueError:
                call.body_error = True
        with self._lock:
            request, context = self._request(call)
            outcome = self._pre_fault(request)
            if outcome is None:
                outcome = self._answer(request, context, call)
                self._post_fault(request, outcome)
            request.status = None if outcome.disconnect else outcome.status  # type: ignore[attr-defined]
            self._log.append(request)
        return outcome

    def _request(self, call: Call) -> tuple[Request, Any]:
        """The log entry for a call, and what ``_answer`` needs of it (its route, say)."""
        raise NotImplementedError

    def _answer(self, request: Request, context: Any, call: Call) -> Outcome:
        """Process the call as the service does, errors included; ``request`` may be completed
        with what the answer holds."""
        raise NotImplementedError


def post_webhook(url: str, body: bytes, headers: dict[str, str], timeout: float) -> int | None:
    """POST ``body`` to a receiver; return the HTTP status, None if it could not be reached."""
    request = urllib.request.Request(url, data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status: int = response.status
            return status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


# ---- HTTP ---------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 30
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.server.track(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.untrack(self.connection)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        outcome = self.server.emulator._handle(self.command, self.path, self.headers, raw_body)
        if outcome.disconnect:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if outcome.delay:
            time.sleep(outcome.delay)
        if isinstance(outcome.body, bytes):
            payload = outcome.body
            content_type = "text/html"
        else:
            payload = json.dumps(outcome.body, ensure_ascii=False).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        self.send_response(outcome.status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        for name, value in outcome.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, emulator: LoopbackEmulator[Any]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    def track(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def untrack(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout, dropped connection) is part of the tests, not a bug.
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)

    def close_connections(self) -> None:
        """Close kept-alive connections, so no client reaches a stopped emulator."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
