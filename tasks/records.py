"""Load: read the cooperative's records from whichever source the run was given."""

from __future__ import annotations

from dataclasses import dataclass

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE

from charter.model import Cooperative
from integrations.assemble import assemble
from integrations.base import DataError, Source
from integrations.schema import Schema


@dataclass(frozen=True)
class Records:
    coop: Cooperative
    errors: list[DataError]
    missing_tables: list[str]  # labels of the optional tables the source does not have


@task(name="load-records", cache_policy=NO_CACHE)
def load_records(source: Source, schema: Schema) -> Records:
    """Read every table once and build the charter's records; bad values become errors."""
    tables = source.read(schema)
    coop, found = assemble(tables, schema)
    errors = tables.errors + found
    get_run_logger().info(
        "%d membres, %d missions lus ; %d erreur(s) de données",
        len(coop.members),
        len(coop.missions),
        len(errors),
    )
    return Records(coop, errors, [schema.label(key) for key in tables.missing_tables])
