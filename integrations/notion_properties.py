"""Notion's JSON: a page property as plain data and back, and a property as a typed cell.

Notion wraps every value in an object naming its type (``{"type": "select", "select": {…}}``);
``plain_value`` unwraps it, ``property_value`` wraps plain data for a write, and ``cell_value``
types a property by the same rules as Airtable's cells (``integrations.cells.json_value``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from integrations.cells import json_value
from settings.schema import FieldSpec, FieldType

TEXT_CHUNK = 2000  # characters a rich text object holds, at most


def plain_value(prop: Mapping[str, Any] | None) -> Any:
    """A page property's value as plain data: text, number, bool, ISO date, option name, list
    of related page ids. Formulas and rollups give the value they hold.

    >>> plain_value({"type": "select", "select": {"name": "Livrée"}})
    'Livrée'
    >>> plain_value({"type": "formula", "formula": {"type": "number", "number": 3}})
    3
    """
    if not prop:
        return None
    kind = prop.get("type")
    value = prop.get(kind) if isinstance(kind, str) else None
    if kind in ("title", "rich_text"):
        return "".join(
            part.get("plain_text") or part.get("text", {}).get("content", "")
            for part in value or []
        )
    if kind in ("select", "status"):
        return value.get("name") if value else None
    if kind in ("multi_select", "people"):
        return [item.get("name") or item.get("id") for item in value or []]
    if kind == "relation":
        return [item["id"] for item in value or []]
    if kind == "date":
        start = value.get("start") if value else None
        return start.split("T", 1)[0] if start else None  # a date with a time: its day
    if kind in ("formula", "rollup"):
        return plain_value(value)
    if kind == "array":  # a rollup showing the values of related pages
        items = [plain_value(item) for item in value or []]
        return [x for item in items for x in (item if isinstance(item, list) else [item])]
    return value  # number, checkbox, email, url, phone_number, string, boolean, timestamps


def cell_value(spec: FieldSpec, prop: Mapping[str, Any]) -> Any:
    """A typed value from a page property, by the same rules as Airtable's cells: strings go
    through ``parse_cell``, so a date, amount or email typed as text reads as in a CSV."""
    value = plain_value(prop)
    if value in (None, "", []) or (value is False and spec.type is FieldType.CHECKBOX):
        return None
    numeric = (FieldType.CURRENCY, FieldType.NUMBER, FieldType.CHECKBOX)
    if isinstance(value, int | float) and not isinstance(value, bool) and spec.type not in numeric:
        value = format(Decimal(str(value)).normalize(), "f")  # a number where text is expected
    return json_value(spec, value)


def text(content: str) -> list[dict[str, Any]]:
    """Rich text for ``content``, in pieces of at most 2,000 characters (Notion's limit)."""
    return [
        {"type": "text", "text": {"content": content[i : i + TEXT_CHUNK]}}
        for i in range(0, len(content), TEXT_CHUNK)
    ]


def property_value(kind: str, value: Any) -> dict[str, Any]:
    """A page property to write, of Notion type ``kind``, from plain data.

    >>> property_value("relation", ["1f2e…"])
    {'relation': [{'id': '1f2e…'}]}
    """
    if kind in ("title", "rich_text"):
        return {kind: text("" if value is None else str(value))}
    if kind == "select":
        return {kind: {"name": str(value)} if value not in (None, "") else None}
    if kind == "date":
        day = value.isoformat() if isinstance(value, date) else value
        return {kind: {"start": day} if day else None}
    if kind == "relation":
        return {kind: [{"id": page_id} for page_id in value or []]}
    if kind == "number":
        return {kind: None if value in (None, "") else float(Decimal(str(value)))}
    if kind == "checkbox":
        return {kind: bool(value)}
    return {kind: value or None}  # email, url, phone_number


def page_title(page: Mapping[str, Any]) -> str:
    """The text of a page's title property, whatever its name."""
    props = page.get("properties", {})
    return next((plain_value(p) for p in props.values() if p.get("type") == "title"), "").strip()


def same_id(left: str | None, right: str | None) -> bool:
    """Notion writes ids with or without dashes."""
    if left is None or right is None:
        return False
    return left.replace("-", "") == right.replace("-", "")
