"""Reading a request: its route (operation, base, table, record, webhook), the records it sends,
and the parameters of a listing or a write."""

from __future__ import annotations

import re
from typing import Any

from emulators.airtable.errors import _invalid_request
from emulators.airtable.model import MAX_PAGE_SIZE, _ListParams, _Route


def _route(method: str, segments: list[str], body: Any) -> _Route:
    if len(segments) < 2 or segments[0] != "v0" or "" in segments:
        return _Route("unknown")
    s = segments[1:]
    if s[0] == "meta":
        return _meta_route(method, s)
    if s[0] == "bases":
        return _webhook_route(method, s)
    if len(s) == 2:
        upsert = isinstance(body, dict) and "performUpsert" in body
        operation = {
            "GET": "list",
            "POST": "create",
            "PATCH": "upsert" if upsert else "update",
            "PUT": "upsert" if upsert else "replace",
            "DELETE": "delete",
        }.get(method, "unknown")
        return _Route(operation, base=s[0], table=s[1], replace=method == "PUT")
    if len(s) == 3 and s[2] == "listRecords":
        return _Route("list" if method == "POST" else "unknown", base=s[0], table=s[1])
    if len(s) == 3:
        operation = {
            "GET": "get",
            "PATCH": "update_one",
            "PUT": "replace_one",
            "DELETE": "delete_one",
        }.get(method, "unknown")
        return _Route(operation, base=s[0], table=s[1], record=s[2], replace=method == "PUT")
    return _Route("unknown")


def _meta_route(method: str, s: list[str]) -> _Route:
    if s == ["meta", "whoami"] and method == "GET":
        return _Route("whoami")
    if s == ["meta", "bases"] and method == "GET":
        return _Route("bases")
    if len(s) == 4 and s[1] == "bases" and s[3] == "tables":
        operation = {"GET": "schema", "POST": "create_table"}.get(method, "unknown")
        return _Route(operation, base=s[2])
    if len(s) == 6 and s[1] == "bases" and s[3] == "tables" and s[5] == "fields":
        return _Route("create_field" if method == "POST" else "unknown", base=s[2], table=s[4])
    return _Route("unknown")


def _webhook_route(method: str, s: list[str]) -> _Route:
    if len(s) < 3 or s[2] != "webhooks":
        return _Route("unknown")
    base = s[1]
    if len(s) == 3:
        operation = {"GET": "webhook_list", "POST": "webhook_create"}.get(method, "unknown")
        return _Route(operation, base=base)
    if len(s) == 4:
        return _Route(
            "webhook_delete" if method == "DELETE" else "unknown", base=base, webhook=s[3]
        )
    if len(s) == 5:
        operation = {
            ("POST", "refresh"): "webhook_refresh",
            ("GET", "payloads"): "webhook_payloads",
            ("POST", "enableNotifications"): "webhook_enable",
        }.get((method, s[4]), "unknown")
        return _Route(operation, base=base, webhook=s[3])
    return _Route("unknown")


def _int_param(value: Any, lowest: int, highest: int | None, name: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise _invalid_request(f"{name} must be an integer")
    if value < lowest or (highest is not None and value > highest):
        raise _invalid_request(f"{name} must be between {lowest} and {highest}")
    return value


def _bool_param(value: Any, name: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "1", "false", "0"):
        return value.lower() in ("true", "1")
    raise _invalid_request(f"{name} must be a boolean")


def _sent_records(operation: str, body: Any, query: dict[str, list[str]]) -> int | None:
    if operation in ("create", "update", "replace", "upsert") and isinstance(body, dict):
        records = body.get("records")
        if isinstance(records, list):
            return len(records)
        return 1 if "fields" in body else 0
    if operation in ("update_one", "replace_one", "delete_one"):
        return 1
    if operation == "delete":
        return len(query.get("records[]", []) + query.get("records", []))
    return None


def _write_options(body: Any, allowed: set[str]) -> dict[str, bool]:
    if not isinstance(body, dict):
        raise _invalid_request("the body must be a JSON object")
    unknown = set(body) - allowed - {"typecast", "returnFieldsByFieldId"}
    if unknown:
        raise _invalid_request(f"unknown parameter {sorted(unknown)[0]}")
    typecast = body.get("typecast", False)
    by_id = body.get("returnFieldsByFieldId", False)
    return {
        "typecast": _bool_param(typecast, "typecast"),
        "by_field_id": _bool_param(by_id, "returnFieldsByFieldId"),
    }


_LIST_QUERY_KEYS = {
    "pageSize",
    "offset",
    "maxRecords",
    "fields[]",
    "fields",
    "filterByFormula",
    "view",
    "cellFormat",
    "timeZone",
    "userLocale",
    "returnFieldsByFieldId",
    "recordMetadata[]",
}
_SORT_KEY = re.compile(r"^sort\[(\d+)\]\[(field|direction)\]$")


def _list_params_from_query(query: dict[str, list[str]]) -> _ListParams:
    for key in query:
        if key not in _LIST_QUERY_KEYS and not _SORT_KEY.match(key):
            raise _invalid_request(f"unknown parameter {key}")
    sorts: dict[int, dict[str, str]] = {}
    for key, values in query.items():
        match = _SORT_KEY.match(key)
        if match:
            sorts.setdefault(int(match.group(1)), {})[match.group(2)] = values[0]
    raw: dict[str, Any] = {key: values[0] for key, values in query.items() if len(values) == 1}
    if "fields[]" in query or "fields" in query:
        raw["fields"] = query.get("fields[]", []) + query.get("fields", [])
    raw["sort"] = [sorts[i] for i in sorted(sorts)]
    return _list_params(raw)


def _list_params_from_body(body: Any, query: dict[str, list[str]]) -> _ListParams:
    allowed = {
        "pageSize",
        "offset",
        "maxRecords",
        "fields",
        "filterByFormula",
        "sort",
        "view",
        "cellFormat",
        "timeZone",
        "userLocale",
        "returnFieldsByFieldId",
        "recordMetadata",
    }
    if not isinstance(body, dict) or set(body) - allowed:
        raise _invalid_request("unknown parameter in the body")
    if set(query) - {"timeZone", "userLocale"}:
        raise _invalid_request("listRecords takes its parameters in the body")
    if "pageSize" in body and (
        isinstance(body["pageSize"], bool) or not isinstance(body["pageSize"], int)
    ):
        raise _invalid_request("pageSize must be an integer")
    if "fields" in body and (
        not isinstance(body["fields"], list) or any(not isinstance(f, str) for f in body["fields"])
    ):
        raise _invalid_request("fields must be a list of field names")
    return _list_params(dict(body))


def _list_params(raw: dict[str, Any]) -> _ListParams:
    params = _ListParams()
    if "pageSize" in raw:
        params.page_size = _int_param(raw["pageSize"], 1, MAX_PAGE_SIZE, "pageSize")
    if "maxRecords" in raw:
        params.max_records = _int_param(raw["maxRecords"], 1, None, "maxRecords")
    if raw.get("offset") not in (None, ""):
        params.offset = str(raw["offset"])
    if "fields" in raw:
        params.fields = list(raw["fields"])
    if raw.get("filterByFormula"):
        params.formula = str(raw["filterByFormula"])
    if raw.get("view"):
        params.view = str(raw["view"])
    if raw.get("cellFormat", "json") != "json":
        raise _invalid_request("cellFormat=string is not emulated")
    if "returnFieldsByFieldId" in raw:
        params.by_field_id = _bool_param(raw["returnFieldsByFieldId"], "returnFieldsByFieldId")
    sort = raw.get("sort") or []
    if not isinstance(sort, list):
        raise _invalid_request("sort must be a list")
    for item in sort:
        if not isinstance(item, dict) or not isinstance(item.get("field"), str):
            raise _invalid_request("each sort needs a field")
        direction = item.get("direction", "asc")
        if direction not in ("asc", "desc"):
            raise _invalid_request("sort direction is asc or desc")
        params.sort.append((item["field"], direction == "desc"))
    return params
