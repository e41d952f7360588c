"""A small parser for Airtable formulas, as ``filterByFormula`` takes them (``formula_eval``
evaluates the tree it makes).

It covers what a client writes to select records (and what ``pyairtable.formulas`` emits):
``{Field Name}`` references (``\\}`` escapes a brace, a one-word name may go bare), string
literals in single or double quotes with backslash escapes, numbers, ``= != < > <= >=``, ``&``,
``+ - * /`` and a set of functions (``AND``, ``OR``, ``NOT``, ``IF``, ``RECORD_ID``, ``BLANK``,
``LEN``, ``FIND``, ``SEARCH``, ``IS_AFTER``, ``DATETIME_PARSE``...).

>>> formula = parse("AND({Statut} = 'Actif·ve', FIND('a', {Nom}))")
>>> sorted(referenced_fields(formula))
['Nom', 'Statut']
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


class FormulaError(ValueError):
    """The text is not a formula this evaluator understands (Airtable: "Invalid formula")."""


@dataclass(frozen=True)
class Node:
    kind: str  # num, str, bool, field, call, binary, negate
    value: Any = None
    children: tuple[Node, ...] = ()


_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<field>\{(?:\\.|[^}\\])*\})
  | (?P<string>'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*")
  | (?P<number>\d+(?:\.\d*)?|\.\d+)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|=|<|>|&|\+|-|\*|/|\(|\)|,)
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_COMPARISONS = ("=", "!=", "<", ">", "<=", ">=")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text, flags=re.S)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise FormulaError(f"unexpected character {text[position]!r} at {position}")
        position = match.end()
        kind = match.lastgroup or ""
        if kind != "space":
            tokens.append((kind, match.group()))
    return tokens


# Function name -> (fewest, most) arguments; None means any number.
_ARITY: dict[str, tuple[int, int | None]] = {
    "AND": (1, None),
    "OR": (1, None),
    "XOR": (1, None),
    "NOT": (1, 1),
    "IF": (2, 3),
    "TRUE": (0, 0),
    "FALSE": (0, 0),
    "BLANK": (0, 0),
    "RECORD_ID": (0, 0),
    "LEN": (1, 1),
    "FIND": (2, 3),
    "SEARCH": (2, 3),
    "LOWER": (1, 1),
    "UPPER": (1, 1),
    "TRIM": (1, 1),
    "LEFT": (2, 2),
    "RIGHT": (2, 2),
    "CONCATENATE": (1, None),
    "ARRAYJOIN": (1, 2),
    "VALUE": (1, 1),
    "IS_AFTER": (2, 2),
    "IS_BEFORE": (2, 2),
    "IS_SAME": (2, 3),
    "DATETIME_PARSE": (1, 3),
    "DATESTR": (1, 1),
    "TODAY": (0, 0),
    "NOW": (0, 0),
}


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.position = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self, expected: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (expected is not None and token[1] != expected):
            raise FormulaError(f"expected {expected or 'a value'}, found {token}")
        self.position += 1
        return token

    def at_op(self, *ops: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "op" and token[1] in ops

    def formula(self) -> Node:
        node = self.comparison()
        if self.peek() is not None:
            raise FormulaError(f"unexpected {self.peek()}")
        return node

    def _binary(self, ops: tuple[str, ...], operand: Callable[[], Node]) -> Node:
        node = operand()
        while self.at_op(*ops):
            op = self.take()[1]
            node = Node("binary", op, (node, operand()))
        return node

    def comparison(self) -> Node:
        return self._binary(_COMPARISONS, self.concatenation)

    def concatenation(self) -> Node:
        return self._binary(("&",), self.additive)

    def additive(self) -> Node:
        return self._binary(("+", "-"), self.term)

    def term(self) -> Node:
        return self._binary(("*", "/"), self.unary)

    def unary(self) -> Node:
        if self.at_op("-"):
            self.take()
            return Node("negate", None, (self.unary(),))
        return self.primary()

    def primary(self) -> Node:
        kind, text = self.take()
        if kind == "number":
            number = float(text)
            return Node("num", int(number) if number.is_integer() and "." not in text else number)
        if kind == "string":
            return Node("str", _unescape(text[1:-1]))
        if kind == "field":
            return Node("field", _unescape(text[1:-1]))
        if kind == "name":
            if self.at_op("("):
                return self.call(text.upper())
            if text.upper() in ("TRUE", "FALSE"):
                return Node("bool", text.upper() == "TRUE")
            return Node("field", text)
        if text == "(":
            node = self.comparison()
            self.take(")")
            return node
        raise FormulaError(f"unexpected {text!r}")

    def call(self, name: str) -> Node:
        if name not in _ARITY:
            raise FormulaError(f"unknown function {name}")
        self.take("(")
        args: list[Node] = []
        if not self.at_op(")"):
            args.append(self.comparison())
            while self.at_op(","):
                self.take()
                args.append(self.comparison())
        self.take(")")
        fewest, most = _ARITY[name]
        if len(args) < fewest or (most is not None and len(args) > most):
            raise FormulaError(f"{name} takes {fewest}..{most} arguments, got {len(args)}")
        return Node("call", name, tuple(args))


def parse(text: str) -> Node:
    """Parse a formula, or raise ``FormulaError``."""
    return _Parser(text).formula()


def referenced_fields(node: Node) -> list[str]:
    """The field names a formula reads, in order of first appearance."""
    names: list[str] = []
    stack = [node]
    while stack:
        current = stack.pop(0)
        if current.kind == "field" and current.value not in names:
            names.append(current.value)
        stack[0:0] = current.children
    return names
