"""Load the records and write statuses back, as Prefect tasks around ``services.records``."""

from __future__ import annotations

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from charter.model import StatusChange
from charter.scope import Scope
from integrations.base import Source
from services import records
from services.records import Records
from settings.schema import Schema
from tasks.quoting import quoted
from tasks.refusals import refusal_fails


@quoted
@task(name="load-records", cache_policy=NO_CACHE)
@refusal_fails
def load_records(source: Source, schema: Schema, scope: Scope | None = None) -> Records:
    """Read every table once and build the charter's records (``services.records.load``)."""
    return records.load(source, schema, scope, get_run_logger())


@quoted
@task(name="write-back-statuses", cache_policy=NO_CACHE)
@refusal_fails
def write_back_statuses(source: Source, schema: Schema, changes: list[StatusChange]) -> int:
    """Membres.Statut where the source can be written (``services.records.write_back``)."""
    return records.write_back(source, schema, changes)
