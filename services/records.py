"""Load the cooperative's records from the run's source, and write members' statuses back.

Plain functions: the tasks in ``tasks/records.py`` wrap them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from charter.model import Cooperative, StatusChange
from charter.scope import Scope
from integrations.assemble import Assembly, assemble
from integrations.base import DataError, Source, SourceTables
from services.run_log import Logger
from settings.schema import Schema

_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Records:
    coop: Cooperative
    errors: list[DataError]
    missing_tables: list[str]  # labels of the optional tables the source does not have


def load(
    source: Source, schema: Schema, scope: Scope | None = None, logger: Logger = _LOGGER
) -> Records:
    """Read every table once and build the charter's records; bad values become errors.

    For a targeted run a source may read only what the record's rules need. Each table is
    built as it is read, and its records as read let go (``Assembly``), unless the source
    read into tables of its own (a mission's targeted run: a handful of records)."""
    assembly = Assembly(schema)
    tables = source.read(schema, scope, SourceTables(sink=assembly))
    coop, found = assembly.finish() if tables.sink is assembly else assemble(tables, schema)
    errors = tables.errors + found
    logger.info(
        "%d membres, %d missions lus ; %d erreur(s) de données",
        len(coop.members),
        len(coop.missions),
        len(errors),
    )
    return Records(coop, errors, [schema.label(key) for key in tables.missing_tables])


def write_back(source: Source, schema: Schema, changes: list[StatusChange]) -> int:
    """Membres.Statut for members who left or were excluded, where the source can be written.

    The local folder is never written: its run report lists the statuses to update instead.
    """
    writer = getattr(source, "write_statuses", None)
    if writer is None or not changes:
        return 0
    return int(writer(schema, {c.member_id: c.status.value for c in changes}))
