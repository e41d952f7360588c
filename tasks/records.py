"""Load: read the cooperative's records from whichever source the run was given."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from charter.model import Cooperative, StatusChange
from charter.scope import Scope
from integrations.assemble import assemble
from integrations.base import DataError, Source
from integrations.schema import Schema
from tasks.quoting import quoted


@dataclass(frozen=True)
class Records:
    coop: Cooperative
    errors: list[DataError]
    missing_tables: list[str]  # labels of the optional tables the source does not have


@quoted
@task(name="load-records", cache_policy=NO_CACHE)
def load_records(source: Source, schema: Schema, scope: Scope | None = None) -> Records:
    """Read every table once and build the charter's records; bad values become errors.

    For a targeted run a source may read only what the record's rules need."""
    tables = source.read(schema, scope)
    coop, found = assemble(tables, schema)
    errors = tables.errors + found
    get_run_logger().info(
        "%d membres, %d missions lus ; %d erreur(s) de données",
        len(coop.members),
        len(coop.missions),
        len(errors),
    )
    return Records(coop, errors, [schema.label(key) for key in tables.missing_tables])


@quoted
@task(name="write-back-statuses", cache_policy=NO_CACHE)
def write_back_statuses(source: Source, schema: Schema, changes: list[StatusChange]) -> int:
    """Membres.Statut for members who left or were excluded, where the source can be written.

    The local folder is never written: its run report lists the statuses to update instead.
    """
    if not changes:
        return 0
    return source.write_statuses(schema, {c.member_id: c.status.value for c in changes})
