"""One request budget per Airtable base or Notion token, shared by every process and host.

Each process paces its own requests (``integrations.pacing``), but the limit belongs to the
base or token: the webhook receiver reading payloads, a daily run and targeted runs, each at
5 a second, go over Airtable's 5 a second together and every one of them sits out the 30 s
penalty. So when a Prefect API server is configured (``PREFECT_API_URL``; not the ephemeral
server a lone ``cae run`` starts, which no other process sees), every request first takes a
slot of a Prefect global concurrency limit with slot decay (``rate_limit`` mode, the slots
``prefect.concurrency.sync.rate_limit`` takes, but taken over Prefect's synchronous client:
``Slots`` says why): ``cae-rate-airtable-<base id>`` or ``cae-rate-notion-<hash of the token>``.

The limit has one slot, decaying at ``SHARE`` of the API's rate: Prefect's decay frees a slot
only after a whole ``1/decay`` second (it rounds down) and its ``Retry-After`` is jittered, so
a burst is never larger than one request and a second never sees more than ``rate`` requests,
with room for the time a request takes to reach the API. The process's own pacer still applies
after it. A refused slot is expensive: the server answers 423 with a jittered wait that grows
with the refusals, and a refusal also restarts the decay's clock. So a process never asks again
sooner than ``SPACING`` decay periods after its last slot: alone, it is never refused, and a
targeted run's few requests go out about 0.3 s apart instead of more than a second
(``bench/latency.py``).
``CAE_SHARED_RATE=off`` turns the shared budget off (the tests do, but for the test that checks
it: it costs one call to the Prefect server per request).

Prefect is imported when a budget is first built, not with this module: the command line
imports the adapters to refuse a wrong command in a second, before Prefect would even load
(``cae/preflight.py``), and Prefect takes seconds to import.
"""

from __future__ import annotations

import os
import re
import threading
import time
from typing import Any

from integrations.pacing import Pacer

#: The share of the API's rate the decay gives back, leaving room for the network.
SHARE = 0.8
#: How many decay periods a process lets pass between two of its slots (a margin for the time
#: a request takes to reach the API).
SPACING = 1.1
#: Prefect's answer to a slot the limit cannot give yet.
LOCKED = 423
#: Prefect's answer when its database was busy (SQLite's writer lock, taken by the flow runs'
#: state changes, logs and events): its client asks again only 2 s later.
BUSY = 503
#: The waits before asking again after a 503, before leaving the request to Prefect's client.
QUICK_RETRIES = (0.05, 0.1, 0.2, 0.4)
INCREMENT = "/v2/concurrency_limits/increment"
_READY: set[str] = set()
_READY_LOCK = threading.Lock()


def shared_rate_enabled() -> bool:
    """A Prefect API server is configured and ``CAE_SHARED_RATE`` does not turn it off."""
    if os.environ.get("CAE_SHARED_RATE", "").strip().lower() in ("0", "off", "false", "no"):
        return False
    from prefect.settings import PREFECT_API_URL  # see the module's docstring

    return bool(PREFECT_API_URL.value())


def limit_name(api: str, identity: str) -> str:
    """``cae-rate-airtable-app…``: the budget of one base (or one hashed token)."""
    return f"cae-rate-{api}-{re.sub(r'[^A-Za-z0-9_-]', '', identity) or 'default'}"


def ensure_rate_limit(name: str, decay: float) -> None:
    """Create the limit (one slot, ``decay`` slots freed a second), or set it to that. Two
    processes may race to create it: the loser finds the winner's (a 409, or a 500 from a
    SQLite-backed server)."""
    from prefect import get_client  # see the module's docstring
    from prefect.client.schemas.actions import (
        GlobalConcurrencyLimitCreate,
        GlobalConcurrencyLimitUpdate,
    )
    from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

    with _READY_LOCK:
        if name in _READY:
            return
        with get_client(sync_client=True) as client:
            try:
                found = client.read_global_concurrency_limit_by_name(name)
            except ObjectNotFound:
                try:
                    client.create_global_concurrency_limit(
                        GlobalConcurrencyLimitCreate(
                            name=name, limit=1, slot_decay_per_second=decay
                        )
                    )
                except ObjectAlreadyExists:
                    pass
                except Exception:
                    client.read_global_concurrency_limit_by_name(name)  # the winner's
            else:
                if found.limit != 1 or found.slot_decay_per_second != decay:
                    client.update_global_concurrency_limit(
                        name,
                        GlobalConcurrencyLimitUpdate(limit=1, slot_decay_per_second=decay),
                    )
        _READY.add(name)


class Slots:
    """Takes slots of one limit, one at a time, over Prefect's plain HTTP client.

    Not ``prefect.concurrency.sync.rate_limit``: it runs its request as a coroutine on
    Prefect's "run sync" event-loop thread, where the first call of a process starts a slot
    service on Prefect's global event-loop thread and waits for it. ``cae serve``'s runner
    meanwhile registers its deployments on the global loop, which waits for the "run sync"
    loop (``RunnerDeployment.aapply`` → ``run_coro_as_sync``): each loop waited for the other
    and ``cae serve`` hung for good, the receiver's first payloads read with it (3 starts in 8,
    stacks in ``docs/decisions.md``). A synchronous request from the calling thread needs
    neither loop. A refusal (423) is waited out as Prefect does, for the server's
    ``Retry-After``; no event is emitted per slot (``rate_limit`` emits one).

    A slot is asked without Prefect's retries first: a SQLite-backed Prefect server answers
    503 when its database is busy (a flow run starting writes its states, logs and events),
    and Prefect's client then waits 2 s (4 s the second time) before asking again. That was
    one 503 in about eight slots while a targeted run started, 2 s of its 4 (``bench/latency.py``,
    ``docs/decisions.md``). Here a 503 is asked again after ``QUICK_RETRIES``; past them,
    or on any other answer but 200 and 423 (the server's CSRF token, say), the request goes
    through Prefect's client, its retries and back-off."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._next = 0.0
        self._client: Any = None

    def take(self, interval: float) -> None:
        """Wait until ``interval`` seconds after this process's last slot, then take one."""
        with self._lock:
            delay = self._next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._occupy()
            self._next = time.monotonic() + interval

    def _occupy(self) -> None:
        from prefect import get_client  # see the module's docstring

        if self._client is None:
            self._client = get_client(sync_client=True).__enter__()  # kept for the process
        while True:
            answer = self._ask()
            if answer.status_code == LOCKED:
                time.sleep(float(answer.headers.get("Retry-After", 1)))
                continue
            if not answer.json():
                raise LookupError(f"Limite de débit Prefect « {self.name} » introuvable.")
            return

    def _ask(self) -> Any:
        """One slot asked: the server's 200 or 423."""
        import httpx  # see the module's docstring

        body = {"names": [self.name], "slots": 1, "mode": "rate_limit"}
        http = self._client._client  # Prefect's httpx client: its server, headers and TLS
        for wait in QUICK_RETRIES:
            try:  # httpx.Client.send: the request without Prefect's retries
                answer = httpx.Client.send(http, http.build_request("POST", INCREMENT, json=body))
            except httpx.TransportError:
                break
            if answer.status_code in (200, LOCKED):
                return answer
            if answer.status_code != BUSY:
                break
            time.sleep(wait)
        try:
            return self._client.request("POST", INCREMENT, json=body)
        except httpx.HTTPStatusError as error:
            if error.response.status_code != LOCKED:
                raise
            return error.response


_SLOTS: dict[str, Slots] = {}


def slots(name: str) -> Slots:
    """The slots every client of the limit ``name`` shares in this process."""
    with _READY_LOCK:
        return _SLOTS.setdefault(name, Slots(name))


class SharedBudget(Pacer):
    """The process's pacer, then one slot of the shared limit, before each request."""

    def __init__(self, name: str, local: Pacer) -> None:
        self.name = name
        self.local = local
        self.rate = local.rate
        decay = round(local.rate * SHARE, 3)
        ensure_rate_limit(name, decay)
        self.interval = SPACING / decay
        self.slots = slots(name)

    def acquire(self) -> None:
        self.local.acquire()
        try:
            self.slots.take(self.interval)
        except BaseException:
            self.local.release()
            raise

    def release(self) -> None:
        self.local.release()

    def pause(self, seconds: float) -> None:
        self.local.pause(seconds)


def budget(api: str, identity: str, local: Pacer) -> Pacer:
    """``local`` alone, or inside the shared budget of ``api`` / ``identity`` when enabled."""
    if not shared_rate_enabled():
        return local
    return SharedBudget(limit_name(api, identity), local)
