"""Small helpers of the Notion emulator: times rounded as Notion sends them, ids, rich text,
parameters, date comparisons, and routes."""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, date, datetime
from typing import Any

from emulators.notion.errors import _invalid, _shown, _validation
from emulators.notion.model import (
    ANNOTATIONS,
    DATE_ONLY,
    HEX_ID,
    MAX_ARRAY_LENGTH,
    MAX_PAGE_SIZE,
    MAX_TEXT_LENGTH,
    _Route,
)


def _iso_minute(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:00.000Z")


def _iso_ms(moment: datetime) -> str:
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _minute(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _canonical_id(raw: Any) -> str | None:
    if not isinstance(raw, str):
        return None
    compact = raw.replace("-", "")
    if not HEX_ID.match(compact):
        return None
    return str(uuid.UUID(compact))


def _path_id(raw: str | None, name: str) -> str:
    found = _canonical_id(raw)
    if found is None:
        raise _validation(
            f"path failed validation: path.{name} should be a valid uuid, instead was "
            f"`{_shown(raw)}`."
        )
    return found


def _body_id(raw: Any, path: str) -> str:
    found = _canonical_id(raw)
    if found is None:
        raise _invalid(path, "a valid uuid", raw)
    return found


def _text(content: str) -> dict[str, Any]:
    return {
        "type": "text",
        "text": {"content": content, "link": None},
        "annotations": dict(ANNOTATIONS),
        "plain_text": content,
        "href": None,
    }


def _rich_text(value: Any, path: str) -> list[dict[str, Any]]:
    """Rich text as a request gives it, in the response form (text items only)."""
    if not isinstance(value, list):
        raise _invalid(path, "an array", value)
    if len(value) > MAX_ARRAY_LENGTH:
        raise _invalid(f"{path}.length", f"≤ `{MAX_ARRAY_LENGTH}`", len(value))
    items = []
    for index, item in enumerate(value):
        where = f"{path}[{index}]"
        if not isinstance(item, dict):
            raise _invalid(where, "an object", item)
        kind = item.get("type", "text")
        if kind != "text" or "text" not in item:
            raise _invalid(f"{where}.text", "defined (only text items are emulated)", item)
        text = item["text"]
        if not isinstance(text, dict) or not isinstance(text.get("content"), str):
            raise _invalid(f"{where}.text.content", "a string", (text or {}).get("content"))
        content = text["content"]
        if len(content) > MAX_TEXT_LENGTH:
            raise _invalid(f"{where}.text.content.length", f"≤ `{MAX_TEXT_LENGTH}`", len(content))
        link = text.get("link")
        if link is not None and not (isinstance(link, dict) and isinstance(link.get("url"), str)):
            raise _invalid(f"{where}.text.link", "an object with a url, or null", link)
        annotations = dict(ANNOTATIONS)
        if isinstance(item.get("annotations"), dict):
            annotations.update({k: v for k, v in item["annotations"].items() if k in ANNOTATIONS})
        items.append(
            {
                "type": "text",
                "text": {"content": content, "link": copy.deepcopy(link)},
                "annotations": annotations,
                "plain_text": content,
                "href": link["url"] if link else None,
            }
        )
    return items


def _object_body(body: Any) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise _invalid("body", "an object", body)
    return body


def _trash_flag(body: dict[str, Any], default: bool | None = None) -> bool | None:
    """``in_trash``, or its older name ``archived`` (the later one wins when both are given),
    checked as a boolean; ``default`` when the body has neither."""
    flag = default
    for key in ("in_trash", "archived"):
        if key in body:
            flag = _bool(body[key], f"body.{key}")
    return flag


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise _invalid(path, "a boolean", value)
    return value


def _page_size(value: Any, path: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid(path, "a number", value)
    if value < 1:
        raise _invalid(path, "≥ `1`", value)
    if value > MAX_PAGE_SIZE:
        raise _invalid(path, f"≤ `{MAX_PAGE_SIZE}`", value)
    return value


def _moment(text: Any) -> date | datetime | None:
    """A date or date-time string as a ``date`` or an aware ``datetime``; None if malformed."""
    if not isinstance(text, str):
        return None
    try:
        if DATE_ONLY.match(text):
            return date.fromisoformat(text)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _compare_moments(left: date | datetime, right: date | datetime) -> int:
    """Compare by day when either side has no time, else by instant."""
    if isinstance(left, datetime) and isinstance(right, datetime):
        a: Any = left
        b: Any = right
    else:
        a = left.astimezone(UTC).date() if isinstance(left, datetime) else left
        b = right.astimezone(UTC).date() if isinstance(right, datetime) else right
    return (a > b) - (a < b)


def _sortable_moment(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def _route(method: str, path: str) -> _Route:
    segments = path.split("/")[1:]
    if len(segments) < 2 or segments[0] != "v1" or "" in segments:
        return _Route("unknown")
    s = segments[1:]
    size = len(s)
    if s == ["databases"]:
        return _Route("create_database" if method == "POST" else "unknown")
    if size == 2 and s[0] == "databases":
        operation = {"GET": "retrieve_database", "PATCH": "update_database"}.get(method)
        return _Route(operation or "unknown", id=s[1])
    if s == ["data_sources"]:
        return _Route("create_data_source" if method == "POST" else "unknown")
    if size == 2 and s[0] == "data_sources":
        operation = {"GET": "retrieve_data_source", "PATCH": "update_data_source"}.get(method)
        return _Route(operation or "unknown", id=s[1])
    if size == 3 and s[0] == "data_sources" and s[2] == "query" and method == "POST":
        return _Route("query", id=s[1])
    if s == ["pages"]:
        return _Route("create_page" if method == "POST" else "unknown")
    if size == 2 and s[0] == "pages":
        operation = {"GET": "retrieve_page", "PATCH": "update_page"}.get(method)
        return _Route(operation or "unknown", id=s[1])
    if size == 4 and s[0] == "pages" and s[2] == "properties" and method == "GET":
        return _Route("retrieve_property", id=s[1], property_id=s[3])
    if s == ["users", "me"] and method == "GET":
        return _Route("retrieve_bot_user")
    return _Route("unknown")
