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

    The client asks again soon when the server's database is busy (a 503), where Prefect's
    waits 2 s: that was 2 s of a targeted run's 4 (``integrations/prefect_client.py``)."""

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
        from httpx import HTTPStatusError  # see the module's docstring

        from integrations.prefect_client import quick_client

        if self._client is None:
            self._client = quick_client().__enter__()  # kept for the process
        while True:
            try:
                taken = self._client.increment_concurrency_slots([self.name], 1, "rate_limit")
            except HTTPStatusError as error:
                if error.response.status_code != LOCKED:
                    raise
                time.sleep(float(error.response.headers.get("Retry-After", 1)))
                continue
            if not taken.json():
                raise LookupError(f"Limite de débit Prefect « {self.name} » introuvable.")
            return


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
