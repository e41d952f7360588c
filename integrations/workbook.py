"""The embedded default source: a local folder of CSV files, one per table (docs/data-model.md).

>>> tables = LocalWorkbook(Path("exemple")).read(Schema.default())
>>> [record.name for record in tables.tables["members"]]
['Alice Martin', 'Bruno Petit']

A table is ``<label>.csv`` or Airtable's download name ``<label>-Grid view.csv``; its header row
holds the field labels. Records are named and identified by their primary value, which is what
the link cells of the other tables quote. The folder is only ever read.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from charter.scope import Scope
from integrations.base import DataError, SourceRecord, SourceTables
from integrations.cells import build_record, parse_cell
from settings.schema import UNNAMED_TABLES, FieldSpec, Schema, TableSpec

#: Suffixes of a table's file name after its label, in order of preference.
FILE_SUFFIXES = (".csv", "-Grid view.csv")
#: The longest cell read (the csv module's default, 128 KiB, would stop the whole run).
CELL_LIMIT = 64 * 1024 * 1024


def _nfc(text: str) -> str:
    # Names typed or saved on a Mac may arrive decomposed (e + combining accent).
    return unicodedata.normalize("NFC", text)


class LocalWorkbook:
    """Reads the cooperative's tables from ``folder``; see the module docstring for a call."""

    name = "local"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def read(
        self, schema: Schema, scope: Scope | None = None, into: SourceTables | None = None
    ) -> SourceTables:
        """Every table of ``schema`` found in the folder, with the problems met on the way.

        A local folder is read whole, even for a targeted ``scope``: it costs no request.
        A table with an error for the whole table (missing file or column, unreadable file) is
        absent from ``tables``; a missing optional table is listed in ``missing_tables``.
        """
        files = self.table_files(schema)
        result = SourceTables() if into is None else into
        for spec in schema.tables.values():
            path = files.get(spec.key)
            if path is None:
                if spec.required:
                    result.errors.append(_missing_table(spec))
                else:
                    result.missing_tables.append(spec.key)
                continue
            records = _read_table(path, spec, result.errors)
            if records is not None:
                result.add(spec.key, records)
        return result

    def table_files(self, schema: Schema) -> dict[str, Path]:
        """The file of each table the folder holds, by table key."""
        if not self.folder.is_dir():
            raise FileNotFoundError(f"Dossier de données introuvable : {self.folder}")
        files = {_nfc(path.name): path for path in sorted(self.folder.iterdir()) if path.is_file()}
        found = {}
        for spec in schema.tables.values():
            path = next((files[n] for n in _file_names(spec) if n in files), None)
            if path is not None:
                found[spec.key] = path
        return found

    def write_statuses(self, schema: Schema, statuses: dict[str, str]) -> int:
        """Write nothing: the folder is only ever read, and the run report lists the statuses
        a person must update by hand instead."""
        return 0


def with_ids(
    fields: Iterable[FieldSpec], values: dict[str, Any], ids: dict[str, dict[str, str]]
) -> Iterator[tuple[FieldSpec, Any]]:
    """Each filled value of ``fields`` in a record read from the folder, for a copy into a base:
    its links by name become the ids the linked records got there (``ids``, by table key then
    name). A link to a record not copied is dropped, and a link field left with none."""
    for f in fields:
        if f.key not in values:
            continue
        value = values[f.key]
        if f.link_table is not None:
            value = [i for i in (ids.get(f.link_table, {}).get(name) for name in value) if i]
            if not value:
                continue
        yield f, value


def _file_names(spec: TableSpec) -> list[str]:
    return [_nfc(spec.label + suffix) for suffix in FILE_SUFFIXES]


def _missing_table(spec: TableSpec) -> DataError:
    first, second = (f"« {name} »" for name in _file_names(spec))
    message = (
        f"La table {spec.label} est obligatoire, mais le dossier ne contient "
        f"ni {first} ni {second}."
    )
    return DataError(spec.label, None, None, message)


def _read_table(path: Path, spec: TableSpec, errors: list[DataError]) -> list[SourceRecord] | None:
    """The records of one file, or ``None`` when the whole table is unusable."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        message = (
            f"Le fichier « {path.name} » n'est pas encodé en UTF-8 : "
            "enregistrez-le au format « CSV UTF-8 »."
        )
        errors.append(DataError(spec.label, None, None, message))
        return None
    if csv.field_size_limit() < CELL_LIMIT:
        csv.field_size_limit(CELL_LIMIT)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text))
    header = _labels(next(rows, []))
    columns: dict[str, int] = {}
    for index, label in enumerate(header):
        columns.setdefault(label, index)
    missing = [f for f in spec.fields if f.required and _nfc(f.label) not in columns]
    for field in missing:
        message = (
            f"La colonne « {field.label} » manque dans « {path.name} » : elle est obligatoire, "
            "la table n'est donc pas lue."
        )
        errors.append(DataError(spec.label, None, field.label, message))
    if missing:
        return None
    records = []
    indices = [(f.key, columns.get(_nfc(f.label))) for f in spec.fields]
    # The header is spreadsheet row 1; a quoted cell spanning lines is still one row.
    for line, row in enumerate(rows, start=2):
        if any(cell.strip() for cell in row):
            cells = {key: _cell(row, index) for key, index in indices}
            records.append(_record(spec, line, cells, errors))
    return records


def header(path: Path) -> list[str]:
    """The field labels a table's file holds: its header row."""
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    return _labels(next(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)), []))


def _labels(row: list[str]) -> list[str]:
    return [_nfc(label.strip()) for label in row]


def _delimiter(text: str) -> str:
    # A CSV saved by a French spreadsheet uses semicolons; Airtable's exports use commas.
    header = text.split("\n", 1)[0]
    return ";" if header.count(";") > header.count(",") else ","


def _cell(row: list[str], index: int | None) -> str:
    return _nfc(row[index].strip()) if index is not None and index < len(row) else ""


def _record(
    spec: TableSpec, line: int, cells: dict[str, str], errors: list[DataError]
) -> SourceRecord:
    primary = None if spec.key in UNNAMED_TABLES else cells[spec.primary.key] or None
    name = primary or f"ligne {line}"
    return build_record(spec, name, name, primary, cells, parse_cell, errors)
