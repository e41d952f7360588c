"""The Airtable emulator's webhooks: the API, the payloads each change appends, and signed pings."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
from typing import Any

from emulators.airtable.errors import _invalid_request, _not_found
from emulators.airtable.model import (
    API_USER,
    MAX_WEBHOOK_PAYLOADS_PER_PAGE,
    STAFF_USER,
    WEBHOOK_LIFETIME,
    _Base,
    _empty,
    _Field,
    _iso,
    _now,
    _Record,
    _Route,
    _Table,
    _Transaction,
    _Webhook,
)
from emulators.airtable.params import _int_param
from emulators.loopback import post_webhook


class Webhooks:
    """Webhooks: the test hooks (``webhooks``, ``payloads``, ``ping``), the API (create, list,
    delete, refresh, enable, payloads), and the payloads each change appends.

    Mixed into ``AirtableEmulator``, whose lookups (``_base``, ``_new_id``…) it uses.
    """

    def webhooks(self, *, base: str | None = None) -> list[dict[str, Any]]:
        """Each webhook as ``GET …/webhooks`` lists it, plus its ``macSecretBase64``."""
        with self._lock:
            return [
                {**w.json(), "macSecretBase64": base64.b64encode(w.secret).decode("ascii")}
                for w in self._base(base).webhooks.values()
            ]

    def payloads(self, webhook_id: str, *, base: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._webhook(self._base(base), webhook_id).payloads)

    def ping(
        self, webhook_id: str, *, base: str | None = None, timeout: float = 60.0
    ) -> int | None:
        """POST a signed notification to the webhook's URL; return the HTTP status (None if
        unreachable or nothing was sent because notifications are off or there is no URL)."""
        with self._lock:
            target = self._base(base)
            hook = self._webhook(target, webhook_id)
            if not hook.enabled or not hook.notification_url:
                return None
            sent_at = _now()
            body = json.dumps(
                {"base": {"id": target.id}, "webhook": {"id": hook.id}, "timestamp": _iso(sent_at)}
            ).encode("ascii")
            mac = hmac.new(hook.secret, body, hashlib.sha256).hexdigest()
            url = hook.notification_url
        headers = {
            "Content-Type": "application/json",
            "X-Airtable-Content-MAC": f"hmac-sha256={mac}",
        }
        status = post_webhook(url, body, headers, timeout)
        finished = _now()
        with self._lock:
            success = status is not None and 200 <= status < 300
            hook.last_result = {
                "success": success,
                "completionTimestamp": _iso(finished),
                "durationMs": (finished - sent_at).total_seconds() * 1000,
                "retryNumber": 0,
            }
            if success:
                hook.last_success = _iso(finished)
            else:
                reason = f"HTTP status {status}" if status else "the URL could not be reached"
                hook.last_result["error"] = {"message": reason}
        return status

    def _op_webhook_create(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        if not isinstance(body, dict) or set(body) - {"notificationUrl", "specification"}:
            raise _invalid_request("a webhook takes notificationUrl and specification")
        spec = body.get("specification")
        filters = spec.get("options", {}).get("filters") if isinstance(spec, dict) else None
        if not isinstance(filters, dict) or not filters.get("dataTypes"):
            raise _invalid_request("specification.options.filters.dataTypes is required")
        hook = _Webhook(
            id=self._new_id("ach"),
            notification_url=body.get("notificationUrl"),
            specification=copy.deepcopy(spec),
            secret=self._random.randbytes(32),
            expiration=_now() + WEBHOOK_LIFETIME,
        )
        base.webhooks[hook.id] = hook
        return 200, {
            "id": hook.id,
            "macSecretBase64": base64.b64encode(hook.secret).decode("ascii"),
            "expirationTime": _iso(hook.expiration),
        }

    def _op_webhook_list(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        return 200, {"webhooks": [w.json() for w in base.webhooks.values()]}

    def _op_webhook_delete(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        self._api_webhook(base, route)
        del base.webhooks[route.webhook or ""]
        return 200, {}

    def _op_webhook_refresh(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        hook = self._api_webhook(base, route)
        hook.expiration = _now() + WEBHOOK_LIFETIME
        return 200, {"expirationTime": _iso(hook.expiration)}

    def _op_webhook_enable(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        hook = self._api_webhook(base, route)
        if not isinstance(body, dict) or not isinstance(body.get("enable"), bool):
            raise _invalid_request("enable must be a boolean")
        hook.enabled = body["enable"]
        return 200, {}

    def _op_webhook_payloads(
        self, base: _Base, route: _Route, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any]:
        hook = self._api_webhook(base, route)
        if set(query) - {"cursor", "limit"}:
            raise _invalid_request("payloads take cursor and limit")
        cursor = _int_param(query.get("cursor", ["1"])[0], 1, None, "cursor")
        limit = _int_param(
            query.get("limit", [str(MAX_WEBHOOK_PAYLOADS_PER_PAGE)])[0],
            1,
            MAX_WEBHOOK_PAYLOADS_PER_PAGE,
            "limit",
        )
        page = hook.payloads[cursor - 1 : cursor - 1 + limit]
        following = cursor + len(page)
        return 200, {
            "cursor": following,
            "mightHaveMore": following <= len(hook.payloads),
            "payloads": copy.deepcopy(page),
        }

    def _api_webhook(self, base: _Base, route: _Route) -> _Webhook:
        hook = base.webhooks.get(route.webhook or "")
        if hook is None:
            raise _not_found()
        return hook

    def _publish(self, base: _Base, txn: _Transaction, source: str) -> None:
        """Append this change to the payloads of every webhook that watches it."""
        if not txn:
            return
        base.transactions += 1
        for hook in base.webhooks.values():
            payload = self._payload(base, txn, hook, source)
            if payload is not None:
                hook.payloads.append(payload)

    def _payload(
        self, base: _Base, txn: _Transaction, hook: _Webhook, source: str
    ) -> dict[str, Any] | None:
        options = hook.specification.get("options", {})
        filters = options.get("filters", {})
        includes = options.get("includes") or {}
        if "tableData" not in filters.get("dataTypes", []):
            return None
        if filters.get("fromSources") and source not in filters["fromSources"]:
            return None
        scope = filters.get("recordChangeScope")
        change_types = set(filters.get("changeTypes") or ("add", "remove", "update"))
        watched = set(filters.get("watchDataInFieldIds") or ())
        tables: dict[str, Any] = {}
        for table_id in txn.table_ids:
            table = base.tables.get(table_id)
            if table is None or (scope and scope != table_id):
                continue
            entry: dict[str, Any] = {}
            created = txn.created.get(table_id, [])
            destroyed = set(txn.destroyed.get(table_id, []))
            if "add" in change_types and created:
                entry["createdRecordsById"] = {
                    rid: {
                        "createdTime": table.records[rid].created_time,
                        "cellValuesByFieldId": self._hook_cells(base, table, table.records[rid]),
                    }
                    for rid in created
                    if rid in table.records
                }
            changed = self._hook_changes(base, table, txn, includes, watched, destroyed)
            if "update" in change_types and changed:
                entry["changedRecordsById"] = changed
            if "remove" in change_types and destroyed:
                entry["destroyedRecordIds"] = txn.destroyed[table_id]
            if entry:
                tables[table_id] = entry
        if not tables:
            return None
        user = STAFF_USER if source == "client" else API_USER
        return {
            "timestamp": _iso(_now()),
            "baseTransactionNumber": base.transactions,
            "actionMetadata": {"source": source, "sourceMetadata": {"user": dict(user)}},
            "payloadFormat": "v0",
            "changedTablesById": tables,
        }

    def _hook_changes(
        self,
        base: _Base,
        table: _Table,
        txn: _Transaction,
        includes: dict[str, Any],
        watched: set[str],
        destroyed: set[str],
    ) -> dict[str, Any]:
        changes: dict[str, Any] = {}
        for record_id, previous in txn.changed.get(table.id, {}).items():
            record = table.records.get(record_id)
            if (
                record is None
                or record_id in destroyed
                or (watched and not watched & set(previous))
            ):
                continue
            current = {
                fid: self._hook_value(base, table.field(fid), record.cells.get(fid))
                for fid in previous
            }
            change: dict[str, Any] = {"current": {"cellValuesByFieldId": current}}
            if includes.get("includePreviousCellValues"):
                change["previous"] = {
                    "cellValuesByFieldId": {
                        fid: self._hook_value(base, table.field(fid), value)
                        for fid, value in previous.items()
                    }
                }
            extra = includes.get("includeCellValuesInFieldIds")
            if extra:
                unchanged = {
                    fid: value
                    for fid, value in self._hook_cells(base, table, record).items()
                    if fid not in previous and (extra == "all" or fid in extra)
                }
                change["unchanged"] = {"cellValuesByFieldId": unchanged}
            changes[record_id] = change
        return changes

    def _hook_cells(self, base: _Base, table: _Table, record: _Record) -> dict[str, Any]:
        return {
            f.id: self._hook_value(base, f, record.cells[f.id])
            for f in table.fields
            if not _empty(record.cells.get(f.id))
        }

    def _hook_value(self, base: _Base, cell_field: _Field | None, value: Any) -> Any:
        """A cell in the webhook format: selects and links become objects with a name."""
        if value is None or cell_field is None:
            return copy.deepcopy(value)
        if cell_field.type == "singleSelect":
            return copy.deepcopy(cell_field.choice(value))
        if cell_field.type == "multipleSelects":
            return [copy.deepcopy(cell_field.choice(v)) for v in value]
        if cell_field.type == "multipleRecordLinks":
            linked = base.tables[cell_field.options["linkedTableId"]]  # type: ignore[index]
            return [
                {"id": i, "name": self._primary_text(base, linked, linked.records[i])}
                for i in value
                if i in linked.records
            ]
        return copy.deepcopy(value)
