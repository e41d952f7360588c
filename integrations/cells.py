"""Reading one cell of a CSV export or an API's JSON into a typed value (dates, amounts, links).

>>> parse_cell(FieldSpec("revenue", "CA HT", FieldType.CURRENCY), "1 234,56 €")
Decimal('1234.56')
>>> parse_cell(FieldSpec("team", "Équipe", FieldType.LINKS), 'Alice, "Dupont, Jean"')
['Alice', 'Dupont, Jean']

A cell that cannot be read raises ``CellError``, whose message is the French sentence the staff
will read: ``« CA HT » : « abc » n'est pas un montant.``
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import Any

from integrations.base import DataError, SourceRecord
from settings.schema import FieldSpec, FieldType, TableSpec

#: How many characters of a bad value a message quotes.
QUOTE_LIMIT = 60

_SPACES = re.compile(r"\s")  # Unicode-aware: also U+00A0 and U+202F (French thousands separators)
_AMOUNT = re.compile(r"[0-9.,]+")
_GROUPED = {sep: re.compile(rf"[0-9]{{1,3}}(?:{re.escape(sep)}[0-9]{{3}})+") for sep in ".,"}
_ISO_DATE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_FRENCH_DATE = re.compile(r"([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_CHECKBOX = {
    **dict.fromkeys(("checked", "true", "oui", "yes", "1", "x"), True),
    **dict.fromkeys(("false", "non", "no", "0"), False),
}


class CellError(ValueError):
    """A cell that cannot be read; ``str(error)`` is the staff-facing French message."""


def quoted(value: str) -> str:
    """A value between French quotes, on one line and cut to ``QUOTE_LIMIT`` characters.

    >>> quoted("Alice")
    '« Alice »'
    """
    text = " ".join(value.split())
    if len(text) > QUOTE_LIMIT:
        text = text[: QUOTE_LIMIT - 1].rstrip() + "…"
    return f"« {text} »"


def parse_cell(spec: FieldSpec, cell: str) -> Any:
    """The typed value of a non-blank, stripped ``cell``; ``None`` when it holds nothing."""
    try:
        return _PARSERS[spec.type](cell, spec)
    except _Unreadable as problem:
        raise CellError(f"« {spec.label} » : {quoted(cell)} {problem}.") from None


class _Unreadable(Exception):
    """What is wrong with a cell, as the end of a French sentence."""


def _text(cell: str, spec: FieldSpec) -> str:
    return cell


def _long_text(cell: str, spec: FieldSpec) -> str:
    return cell.replace("\r\n", "\n")


def _email(cell: str, spec: FieldSpec) -> str:
    if not _EMAIL.fullmatch(cell):
        raise _Unreadable("n'est pas une adresse e-mail")
    return cell


def _checkbox(cell: str, spec: FieldSpec) -> bool:
    try:
        return _CHECKBOX[cell.lower()]
    except KeyError:
        raise _Unreadable(
            "n'est pas une valeur de case à cocher "
            "(valeurs acceptées : checked, oui/non, true/false, yes/no, 1/0, x)"
        ) from None


def _date(cell: str, spec: FieldSpec) -> date:
    if match := _ISO_DATE.fullmatch(cell):
        year, month, day = match.groups()
    elif match := _FRENCH_DATE.fullmatch(cell):
        day, month, year = match.groups()
    else:
        raise _Unreadable("n'est pas une date (formats acceptés : JJ/MM/AAAA ou AAAA-MM-JJ)")
    try:
        return _day(int(year), int(month), int(day))
    except ValueError:
        raise _Unreadable("n'existe pas dans le calendrier") from None


@lru_cache(maxsize=8192)
def _day(year: int, month: int, day: int) -> date:
    """One ``date`` object for each day read: 560,000 records share a few thousand days."""
    return date(year, month, day)


def _decimal(cell: str, spec: FieldSpec) -> Decimal:
    not_a_number = (
        "n'est pas un montant" if spec.type is FieldType.CURRENCY else "n'est pas un nombre"
    )
    # The euro sign may stand before or after the figure and its sign, not inside: "12€50"
    # is an error rather than 1250.
    text = _SPACES.sub("", cell).replace("\u2212", "-").strip("€")
    sign, digits = ("-", text[1:].lstrip("€")) if text.startswith("-") else ("", text)
    if not _AMOUNT.fullmatch(digits) or not any(c.isdigit() for c in digits):
        raise _Unreadable(not_a_number)
    return Decimal(sign + _with_decimal_point(digits, not_a_number))


def _with_decimal_point(digits: str, not_a_number: str) -> str:
    """``digits`` (0-9 and separators) with a ``.`` as the only separator, as Decimal reads it.

    Where both ``.`` and ``,`` appear the last one is the decimal separator; a lone one of
    either is a decimal separator; several of one kind with none of the other is ambiguous.
    """
    if "." in digits and "," in digits:
        point = max(".,", key=digits.rfind)
        thousands = "," if point == "." else "."
        whole, _, fraction = digits.rpartition(point)
        if not fraction or not _GROUPED[thousands].fullmatch(whole):
            raise _Unreadable(not_a_number)
        return whole.replace(thousands, "") + "." + fraction
    for separator in ".,":
        if digits.count(separator) > 1:
            raise _Unreadable(
                f"est ambigu : plusieurs « {separator} » et aucun séparateur décimal "
                "(écrivez par exemple 1234567 ou 1 234 567,00)"
            )
    return digits.replace(",", ".")


#: Characters after which a link cell must be read as CSV (quotes, line breaks, NUL).
_CSV_SPECIAL = re.compile(r'["\r\n\x00]')


def _links(cell: str, spec: FieldSpec) -> list[str] | None:
    # Airtable quotes a linked record's name that contains a comma: read the cell as CSV.
    # Without a quote or line break, CSV reads it as a plain split on the commas.
    if _CSV_SPECIAL.search(cell):
        rows = csv.reader(io.StringIO(cell), skipinitialspace=True)
        names = [name for row in rows for name in row]
    else:
        names = cell.split(",")
    ids = [name.strip() for name in names if name.strip()]
    if spec.type is FieldType.LINK and len(ids) > 1:
        raise _Unreadable(
            f"cite {len(ids)} enregistrements alors qu'un seul est permis : aucun n'est retenu"
        )
    return ids or None


_PARSERS: dict[FieldType, Callable[[str, FieldSpec], Any]] = {
    FieldType.TEXT: _text,
    FieldType.LONG_TEXT: _long_text,
    FieldType.EMAIL: _email,
    FieldType.SELECT: _text,  # checked against the options by integrations.assemble
    FieldType.CHECKBOX: _checkbox,
    FieldType.DATE: _date,
    FieldType.CURRENCY: _decimal,
    FieldType.NUMBER: _decimal,
    FieldType.LINK: _links,
    FieldType.LINKS: _links,
}


def json_value(spec: FieldSpec, value: Any) -> Any:
    """A typed value from an API's JSON (Airtable's cells, Notion's properties made plain):
    numbers, strings, booleans, lists of record ids; strings go through ``parse_cell``, so a
    date, amount or email typed as text reads as in a CSV."""
    if isinstance(value, str):
        return parse_cell(spec, value.strip()) if value.strip() else None
    if spec.type in (FieldType.CURRENCY, FieldType.NUMBER):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CellError(f"« {spec.label} » : {quoted(str(value))} n'est pas un montant.")
        return Decimal(str(value))
    if spec.type is FieldType.CHECKBOX:
        return bool(value)
    if spec.type in (FieldType.LINK, FieldType.LINKS):
        ids = [str(v) for v in value] if isinstance(value, list) else []
        if spec.type is FieldType.LINK and len(ids) > 1:
            raise CellError(f"« {spec.label} » : un seul lien est attendu, {len(ids)} trouvés.")
        return ids or None
    if isinstance(value, list):  # a lookup or a multiple select where text was expected
        return parse_cell(spec, ", ".join(str(v) for v in value))
    raise CellError(f"« {spec.label} » : {quoted(str(value))} n'est pas une valeur attendue.")


def build_record(
    spec: TableSpec,
    record_id: str,
    name: str,
    primary: str | None,
    cells: dict[str, Any],
    read: Callable[[FieldSpec, Any], Any],
    errors: list[DataError],
) -> SourceRecord:
    """A source record from its raw cells (by field key), whatever the source.

    ``read`` turns a non-empty cell into its typed value or raises ``CellError``; each bad
    value and each empty required field becomes one ``DataError`` and an ``invalid`` key.
    """
    values: dict[str, Any] = {}
    invalid: set[str] = set()
    for field in spec.fields:
        cell = cells.get(field.key)
        try:
            value = read(field, cell) if cell not in (None, "", []) else None
        except CellError as problem:
            errors.append(DataError(spec.label, name, field.label, str(problem)))
            invalid.add(field.key)
            continue
        if value is not None:
            values[field.key] = value
        elif field.required:
            message = f"« {field.label} » : ce champ obligatoire est vide."
            errors.append(DataError(spec.label, name, field.label, message))
            invalid.add(field.key)
    return SourceRecord(record_id, name, primary, values, frozenset(invalid))


def missing_required_fields(
    spec: TableSpec, absent: set[str], where: str, errors: list[DataError]
) -> bool:
    """Report each required field whose label is ``absent`` from the table; return whether
    any is (the table is then not read). ``where`` names the container for the staff."""
    missing = [f for f in spec.fields if f.required and f.label in absent]
    for f in missing:
        message = (
            f"Le champ « {f.label} » manque dans {where} {spec.label} : il est obligatoire, "
            "la table n'est donc pas lue."
        )
        errors.append(DataError(spec.label, None, f.label, message))
    return bool(missing)
