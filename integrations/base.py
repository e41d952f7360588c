"""The small interface every source of records implements, and what it returns.

A source (local CSV folder, Airtable, Notion) turns its tables into ``SourceRecord``s whose
values are already typed (``str``, ``Decimal``, ``date``, ``bool``, list of linked record
ids). ``integrations.assemble`` then checks what only the whole set can tell (select values,
links, duplicates) and builds the charter's dataclasses, so a flow never knows which source it had.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from charter.scope import Scope
from settings.schema import Schema, TableSpec


@dataclass(frozen=True, slots=True)
class DataError:
    """A problem in the cooperative's data, in the staff's words (docs/data-model.md, run-summary).

    ``table`` and ``field`` are labels as the cooperative names them; ``record`` is the record's
    primary value, ``ligne N`` when it has none, and ``None`` for a problem with the whole table.
    """

    table: str
    record: str | None
    field: str | None
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "record": self.record,
            "field": self.field,
            "message": self.message,
        }


@dataclass(frozen=True, slots=True)
class SourceRecord:
    """One record of a table, with typed values.

    ``id`` is the record's id in the source, which links point to (in a CSV folder: its primary
    value). ``name`` is how errors name it: the primary value, or ``ligne N``. ``values`` holds
    only the fields that are filled and could be read; ``invalid`` the keys of fields whose value
    could not be read (each already reported as a ``DataError``). Link values are lists of ids.
    """

    id: str
    name: str
    primary: str | None
    values: dict[str, Any]
    invalid: frozenset[str] = frozenset()


class TableSink(Protocol):
    """Takes each table's records as a source reads them (``integrations.assemble.Assembly``)."""

    def add(self, key: str, records: list[SourceRecord]) -> None: ...


@dataclass
class SourceTables:
    """What a source read: the tables it has (missing optional tables are absent) and errors.

    With a ``sink``, each table read goes to the sink instead of ``tables``, which stays empty:
    a full read hands its tables over in the schema's order and keeps none of them.
    """

    tables: dict[str, list[SourceRecord]] = field(default_factory=dict)
    errors: list[DataError] = field(default_factory=list)
    missing_tables: list[str] = field(default_factory=list)  # keys of optional tables absent
    sink: TableSink | None = None

    def add(self, key: str, records: list[SourceRecord]) -> None:
        """The records read of the table ``key``."""
        if self.sink is None:
            self.tables[key] = records
        else:
            self.sink.add(key, records)

    def links(self, spec: TableSpec, to: str) -> set[str]:
        """The ids that the records read of the table ``spec`` link to in the table ``to``."""
        return {
            record_id
            for record in self.tables.get(spec.key, [])
            for f in spec.fields
            if f.link_table == to
            for record_id in link_ids(record.values.get(f.key))
        }


def link_ids(value: Any) -> list[str]:
    """The record ids of a link value (none when it is not a list)."""
    return list(value) if isinstance(value, list) else []


class Source(Protocol):
    """Where the cooperative's records come from."""

    #: ``local``, ``airtable`` or ``notion``: written in the run summary.
    name: str

    def read(
        self, schema: Schema, scope: Scope | None = None, into: SourceTables | None = None
    ) -> SourceTables:
        """The tables, read into ``into`` when given; with a ``scope``, a source may return
        only the records it concerns (in a new ``SourceTables``, whatever ``into``)."""
        ...

    def write_statuses(self, schema: Schema, statuses: dict[str, str]) -> int:
        """Write Membres.Statut (by record id) where the source can be written; return how
        many records were written (0 for a source that is only ever read)."""
        ...
