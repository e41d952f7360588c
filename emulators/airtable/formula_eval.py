"""The evaluator of a parsed Airtable formula (``formula.parse``), record by record.

>>> from emulators.airtable.formula import parse
>>> formula = parse("AND({Statut} = 'Actif·ve', FIND('a', {Nom}))")
>>> evaluate(formula, {"Statut": "Actif·ve", "Nom": "Camille"}.get, "rec1")
1

Cell values come in as Python values: ``None`` for an empty cell, ``str``, ``int``/``float``,
``bool`` (checkbox), ``date``/``datetime``, and ``tuple[str, ...]`` for the cells Airtable shows
as lists in a formula (linked records by their primary value, multiple selects). As in Airtable, a
blank equals ``''``, ``0`` and ``FALSE()``; text comparison is case-sensitive; a linked-record
field reads as the names of the linked records, not their ids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from emulators.airtable.formula import _COMPARISONS, Node


class _EvalError(Exception):
    """A value Airtable would show as #ERROR: the record does not match."""


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, tuple):
        return ", ".join(_text(v) for v in value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _number(value: Any) -> float | int:
    if value is None or value == "":
        return 0
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    try:
        return float(_text(value).replace(",", "").strip())
    except ValueError as error:
        raise _EvalError(str(error)) from error


def _instant(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if isinstance(value, str):
        parsed = _parse_datetime(value)
        if parsed is not None:
            return _instant(parsed)
    raise _EvalError(f"not a date: {value!r}")


def _parse_datetime(text: str) -> date | datetime | None:
    text = text.strip()
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def truthy(value: Any) -> bool:
    """Whether a formula's result keeps the record, as Airtable decides it."""
    if value is None:
        return False
    if isinstance(value, str | tuple):
        return len(_text(value)) > 0
    if isinstance(value, bool | int | float):
        return value != 0
    return True


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == () or value is False or value == 0


def _is_date(value: Any) -> bool:
    return isinstance(value, date)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op in ("=", "!="):
        equal = _equal(left, right)
        return equal if op == "=" else not equal
    if _is_date(left) or _is_date(right):
        a, b = _instant(left), _instant(right)
    elif isinstance(left, str | tuple) and isinstance(right, str | tuple):
        a, b = _text(left), _text(right)  # type: ignore[assignment]
    else:
        a, b = _number(left), _number(right)  # type: ignore[assignment]
    return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[op]


def _equal(left: Any, right: Any) -> bool:
    if left is None or right is None:
        return _is_blank(left) and _is_blank(right)
    if _is_date(left) or _is_date(right):
        try:
            return _instant(left) == _instant(right)
        except _EvalError:
            return _text(left) == _text(right)
    numeric = (bool, int, float)
    if isinstance(left, numeric) and isinstance(right, numeric):
        return _number(left) == _number(right)
    if isinstance(left, numeric) or isinstance(right, numeric):
        try:
            return _number(left) == _number(right)
        except _EvalError:
            return False
    return _text(left) == _text(right)


# ---- evaluation ---------------------------------------------------------------------------

Lookup = Callable[[str], Any]


def evaluate(node: Node, field: Lookup, record_id: str) -> Any:
    """The formula's value for one record; an #ERROR value comes back as ``None``."""
    try:
        return _Evaluator(field, record_id).value(node)
    except (_EvalError, ZeroDivisionError, TypeError):
        return None


class _Evaluator:
    def __init__(self, field: Lookup, record_id: str) -> None:
        self.field = field
        self.record_id = record_id

    def value(self, node: Node) -> Any:
        if node.kind in ("num", "str", "bool"):
            return node.value
        if node.kind == "field":
            return self.field(node.value)
        if node.kind == "negate":
            return -_number(self.value(node.children[0]))
        if node.kind == "binary":
            return self.binary(node.value, node.children)
        return self.call(node.value, node.children)

    def binary(self, op: str, children: Sequence[Node]) -> Any:
        left, right = (self.value(child) for child in children)
        if op in _COMPARISONS:
            return int(_compare(op, left, right))
        if op == "&":
            return _text(left) + _text(right)
        a, b = _number(left), _number(right)
        return {"+": a + b, "-": a - b, "*": a * b}[op] if op != "/" else a / b

    def call(self, name: str, args: Sequence[Node]) -> Any:
        if name == "IF":
            condition = truthy(self.value(args[0]))
            chosen = args[1] if condition else (args[2] if len(args) > 2 else None)
            return None if chosen is None else self.value(chosen)
        values = [self.value(arg) for arg in args]
        return _FUNCTIONS[name](self, *values)


def _find(needle: Any, haystack: Any, start: Any = 0, *, fold: bool = False) -> int:
    a, b = _text(needle), _text(haystack)
    if fold:
        a, b = a.lower(), b.lower()
    begin = max(int(_number(start)) - 1, 0)
    return b.find(a, begin) + 1


def _same(left: Any, right: Any, unit: Any = None) -> bool:
    a, b = _instant(left), _instant(right)
    width = {"year": 4, "month": 7, "day": 10, "hour": 13, "minute": 16}.get(_text(unit).lower())
    if width is None:
        return a == b
    return a.isoformat()[:width] == b.isoformat()[:width]


def _datetime_parse(text: Any, *_format: Any) -> date | datetime:
    parsed = _parse_datetime(_text(text))
    if parsed is None:
        raise _EvalError(f"cannot parse {text!r}")
    return parsed


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "AND": lambda _, *v: int(all(truthy(x) for x in v)),
    "OR": lambda _, *v: int(any(truthy(x) for x in v)),
    "XOR": lambda _, *v: int(sum(truthy(x) for x in v) % 2 == 1),
    "NOT": lambda _, v: int(not truthy(v)),
    "TRUE": lambda _: True,
    "FALSE": lambda _: False,
    "BLANK": lambda _: None,
    "RECORD_ID": lambda ev: ev.record_id,
    "LEN": lambda _, v: len(_text(v)),
    "FIND": lambda _, n, h, s=0: _find(n, h, s),
    "SEARCH": lambda _, n, h, s=0: _find(n, h, s, fold=True) or None,
    "LOWER": lambda _, v: _text(v).lower(),
    "UPPER": lambda _, v: _text(v).upper(),
    "TRIM": lambda _, v: _text(v).strip(),
    "LEFT": lambda _, v, n: _text(v)[: int(_number(n))],
    "RIGHT": lambda _, v, n: _text(v)[-int(_number(n)) :] if int(_number(n)) else "",
    "CONCATENATE": lambda _, *v: "".join(_text(x) for x in v),
    "ARRAYJOIN": lambda _, v, sep=", ": (
        _text(sep).join(_text(x) for x in v) if isinstance(v, tuple) else _text(v)
    ),
    "VALUE": lambda _, v: _number(v),
    "IS_AFTER": lambda _, a, b: int(_instant(a) > _instant(b)),
    "IS_BEFORE": lambda _, a, b: int(_instant(a) < _instant(b)),
    "IS_SAME": lambda _, a, b, unit=None: int(_same(a, b, unit)),
    "DATETIME_PARSE": lambda _, v, *f: _datetime_parse(v, *f),
    "DATESTR": lambda _, v: _instant(v).date().isoformat(),
    "TODAY": lambda _: datetime.now(UTC).date(),
    "NOW": lambda _: datetime.now(UTC),
}
