"""One run at a time per remote source, through a Prefect global concurrency limit.

Airtable and Notion have no conditional write: two runs reading the same ledger at the same
moment would both find a key free and both claim it. So every run on a base (Airtable) or on a
ledger (Notion) first takes the one slot of the limit ``cae-<source>-<id>``; a second run waits
for the first to finish. The local ledger is one SQLite file whose claim is a transaction
(``INSERT OR IGNORE`` under ``BEGIN IMMEDIATE``): it is safe by itself and takes no slot.

The slot is held under a lease the run renews while it works. A run killed outright (power
cut, ``kill -9``) cannot give its slot back: the lease lapses after ``CAE_SOURCE_LEASE_SECONDS``
(default 300, at least 60) and the next run proceeds. A person who knows the run is dead can
free the slot at once with ``cae unlock`` or from the Concurrency page of the Prefect UI.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
from prefect import get_client, get_run_logger
from prefect.client.schemas.actions import (
    GlobalConcurrencyLimitCreate,
    GlobalConcurrencyLimitUpdate,
)
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists, ObjectNotFound

LEASE_SECONDS = 300.0
#: How long a run waits for the other run on its source before giving up, in seconds.
WAIT_SECONDS = 3600.0


class SourceBusy(RuntimeError):
    """Another run held the source for longer than this run would wait."""


def _seconds(variable: str, default: float, lowest: float) -> float:
    value = os.environ.get(variable)
    if not value:
        return default
    try:
        return max(lowest, float(value))
    except ValueError:
        raise ValueError(f"{variable} doit être un nombre de secondes, pas « {value} »") from None


def ensure_limit(name: str) -> None:
    """Create the limit with one slot if it does not exist yet. Two runs starting together
    race to create it: the loser gets a 409, or from a SQLite-backed server a 500, and then
    finds the winner's limit."""
    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(name)
            return
        except ObjectNotFound:
            pass
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except (ObjectAlreadyExists, httpx.HTTPStatusError):
            client.read_global_concurrency_limit_by_name(name)


@contextmanager
def one_run_at_a_time(name: str | None) -> Iterator[None]:
    """Hold the source's only slot for the duration of the block (no-op without a name)."""
    if name is None:
        yield
        return
    ensure_limit(name)
    wait = _seconds("CAE_SOURCE_WAIT_SECONDS", WAIT_SECONDS, 0)
    get_run_logger().info("Accès exclusif à la source demandé (%s)", name)
    with ExitStack() as held:
        try:
            held.enter_context(
                concurrency(
                    name,
                    occupy=1,
                    strict=True,
                    timeout_seconds=wait,
                    lease_duration=_seconds("CAE_SOURCE_LEASE_SECONDS", LEASE_SECONDS, 60),
                )
            )
        except TimeoutError:
            raise SourceBusy(
                f"Une autre exécution occupe la source ({name}) depuis plus de {wait:g} s. "
                "Si elle a été interrompue, libérez la source avec « cae unlock » ou depuis la "
                "page Concurrency de l'interface Prefect."
            ) from None
        yield


def unlock(name: str) -> int:
    """Free the slot a dead run still holds; return how many slots were taken."""
    with get_client(sync_client=True) as client:
        try:
            limit = client.read_global_concurrency_limit_by_name(name)
        except ObjectNotFound:
            return 0
        client.update_global_concurrency_limit(name, GlobalConcurrencyLimitUpdate(active_slots=0))
        return int(limit.active_slots)
