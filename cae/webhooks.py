"""The webhook receiver: Airtable, Notion or a no-code tool says a record changed, and the
targeted flow (``flows/targeted.py``) runs for that mission or member.

Self-hosted Prefect has no webhooks (API-NOTES.md), so this small ASGI app checks each sender's
signature, then calls ``run_deployment(…, timeout=0, idempotency_key=…)``. Every change has a
key of its own, stable however often it is notified, and Prefect starts one flow run per key: a
notification sent twice, late or replayed starts nothing new.

- ``POST /webhooks/airtable``: Airtable's signed ping carries no data. The receiver answers at
  once, then, in the background, reads the change payloads after its saved cursor and launches
  one run per changed mission or member; key ``airtable:{webhook}:{payload number}:{record}``.
- ``POST /webhooks/notion``: the subscription's verification token, then events signed with
  it; one run per ``page.*`` event in the missions or members data source; key
  ``notion:{event id}``.
- ``POST /webhooks/generic``: a shared secret, for an Airtable automation script, Make, Zapier
  or n8n; key ``generic:{event}``, or ``generic:{sha256 of the body}`` without an event id.
- ``GET /healthz``.

Bad input gets a 4xx with a short French message ``{"erreur": "…"}``, never a 5xx; secrets,
tokens and signatures are never logged.

    >>> app = create_app(ReceiverConfig(generic_secret="…"), prefect_launcher())  # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=8787)                            # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from cae.airtable_webhooks import UnknownTable, mac_key, table_ids, write_private_file
from integrations.airtable import AirtableClient, AirtableSettings

logger = logging.getLogger(__name__)

#: ``launch(deployment_name, parameters, idempotency_key)``: start one flow run per key.
Launcher = Callable[[str, dict[str, Any], str], None]

MISSION = "mission"
MEMBER = "member"
#: The generic endpoint's table names, as the staff see them in Airtable.
GENERIC_TABLES = {"Missions": MISSION, "Membres": MEMBER}
GENERIC_SOURCES = frozenset({"airtable", "notion", "local"})
RECORD_ID = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
EVENT_ID = re.compile(r"^[\x21-\x7e]{1,200}$")  # printable ASCII, no spaces
MAX_TOKEN_LENGTH = 1024
DEFAULT_MAX_BODY_BYTES = 64 * 1024
#: How long a client may take to send its body once its headers are in (slow clients).
DEFAULT_BODY_TIMEOUT_SECONDS = 10.0

AIRTABLE_MAC_HEADER = "x-airtable-content-mac"
NOTION_SIGNATURE_HEADER = "x-notion-signature"
GENERIC_SECRET_HEADER = "x-cae-secret"


def prefect_launcher() -> Launcher:
    """The production launcher: a flow run of the deployment, not waited for."""

    def launch(name: str, parameters: dict[str, Any], idempotency_key: str) -> None:
        from prefect.deployments import run_deployment

        # _sync: run_deployment dispatches to its async twin whenever it sees an event loop.
        run_deployment(  # type: ignore[call-arg]
            name, parameters=parameters, timeout=0, idempotency_key=idempotency_key, _sync=True
        )

    return launch


# ---- stores -------------------------------------------------------------------------------


class TokenStore(Protocol):
    """Where the Notion subscription's verification token is kept."""

    def get(self) -> str | None: ...

    def set(self, token: str) -> None: ...


class CursorStore(Protocol):
    """Where the number of the next Airtable payload to read is kept, per webhook."""

    def get(self, webhook_id: str) -> int | None: ...

    def set(self, webhook_id: str, cursor: int) -> None: ...


class FileTokenStore:
    """The token in a file readable by its owner only (0600)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def get(self) -> str | None:
        try:
            token = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return token or None

    def set(self, token: str) -> None:
        write_private_file(self.path, token + "\n")


class SecretTokenStore:
    """The token in a Prefect Secret block, read once then kept in memory."""

    def __init__(self, block_name: str) -> None:
        self.block_name = block_name
        self._token: str | None = None
        self._lock = threading.Lock()

    def get(self) -> str | None:
        with self._lock:
            if self._token is None:
                from prefect.blocks.system import Secret

                try:
                    secret = Secret.load(self.block_name, _sync=True)  # type: ignore[call-arg]
                except ValueError:  # no such block yet
                    return None
                self._token = str(secret.get()) or None  # type: ignore[union-attr]
            return self._token

    def set(self, token: str) -> None:
        from prefect.blocks.system import Secret

        with self._lock:
            Secret(value=token).save(self.block_name, overwrite=True, _sync=True)  # type: ignore[arg-type, call-arg]
            self._token = token


class _JsonCursorStore:
    """Cursors kept as one JSON object ``{webhook_id: cursor}``; subclasses say where."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def _load(self) -> Any:
        raise NotImplementedError

    def _save(self, cursors: dict[str, int]) -> None:
        raise NotImplementedError

    def _read(self) -> dict[str, int]:
        data = self._load()
        return {str(k): int(v) for k, v in data.items()} if isinstance(data, dict) else {}

    def get(self, webhook_id: str) -> int | None:
        with self._lock:
            return self._read().get(webhook_id)

    def set(self, webhook_id: str, cursor: int) -> None:
        with self._lock:
            cursors = self._read()
            cursors[webhook_id] = cursor
            self._save(cursors)


class FileCursorStore(_JsonCursorStore):
    """The cursors in a JSON file readable by its owner only."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)

    def _load(self) -> Any:
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _save(self, cursors: dict[str, int]) -> None:
        write_private_file(self.path, json.dumps(cursors, indent=2, sort_keys=True) + "\n")


class VariableCursorStore(_JsonCursorStore):
    """The cursors in a Prefect Variable."""

    def __init__(self, name: str = "cae_airtable_webhook_cursors") -> None:
        super().__init__()
        self.name = name

    def _load(self) -> Any:
        from prefect.variables import Variable

        return Variable.get(self.name, default=None, _sync=True)  # type: ignore[call-overload]

    def _save(self, cursors: dict[str, int]) -> None:
        from prefect.variables import Variable

        Variable.set(self.name, cursors, overwrite=True, _sync=True)  # type: ignore[call-arg]


# ---- configuration ------------------------------------------------------------------------


@dataclass(frozen=True)
class AirtableWebhookConfig:
    """The webhook registered by ``cae.airtable_webhooks.create_webhook``, and how to read its
    payloads (``settings``: the base and a token allowed to manage its webhooks)."""

    webhook_id: str
    mac_secret_base64: str = field(repr=False)
    settings: AirtableSettings
    missions_table: str = "Missions"
    members_table: str = "Membres"

    def __post_init__(self) -> None:
        mac_key(self.mac_secret_base64)


@dataclass(frozen=True)
class NotionWebhookConfig:
    """The subscription's token store, and the missions' and members' data sources.

    An event names the page's parent by the data source id, or by the database id with older
    API versions: give the database ids too if the subscription may use one.
    ``accept_new_token``: let a new verification request replace a stored token (anyone may
    send one, unsigned; otherwise delete the stored token to subscribe again).
    """

    tokens: TokenStore
    missions_data_source: str
    members_data_source: str
    missions_database: str | None = None
    members_database: str | None = None
    accept_new_token: bool = False

    def kind_of_parent(self, parent_ids: list[str]) -> str | None:
        kinds = {
            _notion_id(i): kind
            for i, kind in (
                (self.missions_data_source, MISSION),
                (self.members_data_source, MEMBER),
                (self.missions_database, MISSION),
                (self.members_database, MEMBER),
            )
            if i
        }
        return next((kinds[p] for p in map(_notion_id, parent_ids) if p in kinds), None)


def _notion_id(value: str) -> str:
    """Notion writes ids with or without dashes."""
    return value.replace("-", "").lower()


@dataclass(frozen=True)
class ReceiverConfig:
    """Each sender left out (``None``) has its endpoint answer 404."""

    airtable: AirtableWebhookConfig | None = None
    notion: NotionWebhookConfig | None = None
    generic_secret: str | None = field(default=None, repr=False)
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    body_timeout_seconds: float = DEFAULT_BODY_TIMEOUT_SECONDS
    cursor_store: CursorStore | None = None
    targeted_deployment: str = "targeted/targeted"

    def __post_init__(self) -> None:
        if self.airtable is not None and self.cursor_store is None:
            raise ValueError("Le webhook Airtable demande un cursor_store.")
        if self.generic_secret is not None and not self.generic_secret:
            raise ValueError("Le secret du point d'entrée générique est vide.")


# ---- Airtable payloads --------------------------------------------------------------------


class AirtableChanges:
    """Reads the payloads after the saved cursor and launches one run per changed record.

    One reading at a time; pings that arrive while one waits to start are served by it.
    """

    def __init__(
        self,
        config: AirtableWebhookConfig,
        cursors: CursorStore,
        launch: Launcher,
        deployment: str,
    ) -> None:
        self.config = config
        self.cursors = cursors
        self.launch = launch
        self.deployment = deployment
        self.client = AirtableClient(config.settings)
        self._kinds: dict[str, str] | None = None  # table id -> mission | member
        self._webhook: Any = None
        self._work = threading.Lock()
        self._state = threading.Lock()
        self._queued = False
        self._running = False

    @property
    def busy(self) -> bool:
        with self._state:
            return self._queued or self._running

    def schedule(self) -> bool:
        """True if a reading must be started; False if one is already waiting to start."""
        with self._state:
            if self._queued:
                return False
            self._queued = True
            return True

    def drain(self) -> None:
        with self._work:
            with self._state:
                self._queued = False
                self._running = True
            try:
                self._drain()
            except UnknownTable as error:
                logger.error("Lecture des changements Airtable impossible : %s", error)
            except Exception as error:
                logger.error(
                    "Lecture des changements Airtable interrompue (%s) ; "
                    "elle reprendra à la prochaine notification.",
                    type(error).__name__,
                )
            finally:
                with self._state:
                    self._running = False

    def _drain(self) -> None:
        kinds = self._table_kinds()
        if self._webhook is None:
            self._webhook = self.client.base.webhook(self.config.webhook_id)
        webhook_id = self.config.webhook_id
        start = self.cursors.get(webhook_id) or 1
        cursor = start
        try:
            for payload in self._webhook.payloads(cursor=start):
                if not self._launch_payload(payload, kinds):
                    break
                cursor = payload.cursor + 1
        finally:
            if cursor != start:
                self.cursors.set(webhook_id, cursor)

    def _table_kinds(self) -> dict[str, str]:
        if self._kinds is None:
            missions, members = self.config.missions_table, self.config.members_table
            ids = table_ids(self.client, [missions, members])
            self._kinds = {ids[missions]: MISSION, ids[members]: MEMBER}
        return self._kinds

    def _launch_payload(self, payload: Any, kinds: dict[str, str]) -> bool:
        """Launch a run per created or changed mission or member; False if a launch failed,
        so that the cursor stays on this payload and the next reading starts it again."""
        if payload.error:
            logger.warning(
                "Airtable signale une erreur dans le payload n° %s (%s) : ignoré.",
                payload.cursor,
                payload.error_code,
            )
            return True
        for table_id, change in payload.changed_tables_by_id.items():
            kind = kinds.get(table_id)
            if kind is None:
                continue
            records = dict.fromkeys([*change.created_records_by_id, *change.changed_records_by_id])
            for record_id in records:
                key = f"airtable:{self.config.webhook_id}:{payload.cursor}:{record_id}"
                parameters = {"kind": kind, "record": record_id, "source": "airtable"}
                try:
                    self.launch(self.deployment, parameters, key)
                except Exception as error:
                    logger.error(
                        "Lancement de %s impossible (%s) pour %s ; nouvel essai à la prochaine "
                        "notification.",
                        self.deployment,
                        type(error).__name__,
                        key,
                    )
                    return False
                logger.info("Lancé : %s (%s %s).", key, kind, record_id)
        return True


# ---- the app ------------------------------------------------------------------------------


class Rejected(Exception):
    """A request refused, with its status and a short French reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(status, message)
        self.status = status
        self.message = message


HTTP_MESSAGES = {
    404: "Adresse inconnue.",
    405: "Méthode non autorisée.",
}


def _answer(status: int, **content: Any) -> JSONResponse:
    return JSONResponse(content, status_code=status)


def _refusal(status: int, message: str) -> JSONResponse:
    return _answer(status, erreur=message)


async def _read_body(request: Request, limit: int, timeout: float) -> bytes:
    """The raw body, refused over ``limit`` bytes by its Content-Length or as read, and when
    it takes more than ``timeout`` seconds to arrive (a client trickling or stalling)."""
    declared = request.headers.get("content-length")
    if declared is not None:
        if not declared.strip().isdigit():
            raise Rejected(400, "En-tête Content-Length invalide.")
        if int(declared) > limit:
            raise Rejected(413, "Corps de requête trop volumineux.")
    body = bytearray()
    try:
        async with asyncio.timeout(timeout):
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    raise Rejected(413, "Corps de requête trop volumineux.")
    except TimeoutError:
        raise Rejected(408, "Corps de requête reçu trop lentement.") from None
    return bytes(body)


def _require_json(request: Request) -> None:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise Rejected(415, "Le corps doit être du JSON (Content-Type: application/json).")


def _parse_json(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Rejected(400, "Corps JSON invalide.") from None


def _same(received: str, expected: str) -> bool:
    # Starlette decodes headers as Latin-1: encoding back gives the bytes as sent.
    return hmac.compare_digest(received.encode("latin-1"), expected.encode("utf-8"))


def _hex_hmac(key: bytes, body: bytes) -> str:
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def create_app(config: ReceiverConfig, launch: Launcher) -> FastAPI:
    """The receiver. ``launch`` starts a flow run (``prefect_launcher()`` in production)."""
    app = FastAPI(
        title="Coopérative — réception des webhooks",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    limit = config.max_body_bytes
    changes = (
        AirtableChanges(config.airtable, config.cursor_store, launch, config.targeted_deployment)
        if config.airtable is not None and config.cursor_store is not None
        else None
    )
    app.state.airtable_changes = changes

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        return _refusal(error.status_code, HTTP_MESSAGES.get(error.status_code, "Requête refusée."))

    async def launch_one(kind: str, record: str, source: str, key: str) -> JSONResponse:
        parameters = {"kind": kind, "record": record, "source": source}
        try:
            await run_in_threadpool(launch, config.targeted_deployment, parameters, key)
        except Exception as error:
            logger.error(
                "Lancement de %s impossible (%s) pour %s.",
                config.targeted_deployment,
                type(error).__name__,
                key,
            )
            return _answer(202, statut="reçu, lancement différé")
        logger.info("Lancé : %s (%s %s).", key, kind, record)
        return _answer(200, statut="lancé")

    async def guarded(sender: str, handle: Callable[[], Any]) -> JSONResponse:
        try:
            response: JSONResponse = await handle()
            return response
        except Rejected as refusal:
            logger.info("Webhook %s refusé : %s (%s).", sender, refusal.message, refusal.status)
            return _refusal(refusal.status, refusal.message)
        except Exception as error:
            logger.warning(
                "Webhook %s refusé : erreur inattendue (%s).", sender, type(error).__name__
            )
            return _refusal(400, "Requête invalide.")

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        return _answer(200, statut="ok", airtable_en_cours=bool(changes and changes.busy))

    @app.post("/webhooks/airtable")
    async def airtable(request: Request, background: BackgroundTasks) -> JSONResponse:
        async def handle() -> JSONResponse:
            if config.airtable is None or changes is None:
                raise Rejected(404, "Webhook Airtable non configuré.")
            _require_json(request)
            body = await _read_body(request, limit, config.body_timeout_seconds)
            signature = request.headers.get(AIRTABLE_MAC_HEADER)
            if not signature:
                raise Rejected(401, "Signature Airtable absente.")
            expected = "hmac-sha256=" + _hex_hmac(mac_key(config.airtable.mac_secret_base64), body)
            if not _same(signature, expected):
                raise Rejected(401, "Signature Airtable invalide.")
            ping = _parse_json(body)
            if not (
                isinstance(ping, dict)
                and isinstance(ping.get("webhook"), dict)
                and ping["webhook"].get("id") == config.airtable.webhook_id
                and isinstance(ping.get("base"), dict)
                and ping["base"].get("id") == config.airtable.settings.base_id
            ):
                raise Rejected(400, "Notification Airtable inattendue.")
            if changes.schedule():
                background.add_task(changes.drain)
            return _answer(200, statut="reçu")

        return await guarded("Airtable", handle)

    @app.post("/webhooks/notion")
    async def notion(request: Request) -> JSONResponse:
        async def handle() -> JSONResponse:
            notion_config = config.notion
            if notion_config is None:
                raise Rejected(404, "Webhook Notion non configuré.")
            _require_json(request)
            body = await _read_body(request, limit, config.body_timeout_seconds)
            signature = request.headers.get(NOTION_SIGNATURE_HEADER)
            if signature is None:
                return await run_in_threadpool(verify_subscription, notion_config, body)
            token = await run_in_threadpool(notion_config.tokens.get)
            if not token:
                raise Rejected(403, "Abonnement Notion non vérifié : aucun jeton enregistré.")
            if not _same(signature, "sha256=" + _hex_hmac(token.encode("utf-8"), body)):
                raise Rejected(401, "Signature Notion invalide.")
            event = _parse_json(body)
            target = notion_target(notion_config, event)
            if target is None:
                return _answer(200, statut="ignoré")
            kind, record, event_id = target
            return await launch_one(kind, record, "notion", f"notion:{event_id}")

        return await guarded("Notion", handle)

    @app.post("/webhooks/generic")
    async def generic(request: Request) -> JSONResponse:
        async def handle() -> JSONResponse:
            if config.generic_secret is None:
                raise Rejected(404, "Point d'entrée générique non configuré.")
            _require_json(request)
            body = await _read_body(request, limit, config.body_timeout_seconds)
            secret = request.headers.get(GENERIC_SECRET_HEADER)
            if not secret:
                raise Rejected(401, "Secret absent (en-tête X-CAE-Secret).")
            if not _same(secret, config.generic_secret):
                raise Rejected(401, "Secret invalide.")
            kind, record, source, event = generic_request(_parse_json(body))
            key = f"generic:{event}" if event else "generic:" + hashlib.sha256(body).hexdigest()
            return await launch_one(kind, record, source, key)

        return await guarded("générique", handle)

    return app


def verify_subscription(config: NotionWebhookConfig, body: bytes) -> JSONResponse:
    """Notion's first, unsigned request: ``{"verification_token": "…"}``, kept for the
    signatures to come. A stored token is only replaced if the configuration allows it."""
    request = _parse_json(body)
    token = request.get("verification_token") if isinstance(request, dict) else None
    if not (
        isinstance(token, str)
        and set(request) == {"verification_token"}
        and 0 < len(token) <= MAX_TOKEN_LENGTH
        and token.isprintable()
    ):
        raise Rejected(401, "Signature Notion absente.")
    stored = config.tokens.get()
    replacing = stored is not None and not hmac.compare_digest(stored.encode(), token.encode())
    if replacing and not config.accept_new_token:
        logger.warning(
            "Webhook Notion : nouveau jeton de vérification refusé, un autre est déjà "
            "enregistré (supprimez-le pour réabonner)."
        )
        raise Rejected(409, "Un jeton de vérification est déjà enregistré.")
    config.tokens.set(token)
    logger.info("Webhook Notion : jeton de vérification reçu et enregistré.")
    return _answer(200, statut="jeton enregistré")


def notion_target(config: NotionWebhookConfig, event: Any) -> tuple[str, str, str] | None:
    """(kind, page id, event id) for a page event in the missions or members data source."""
    if not isinstance(event, dict):
        raise Rejected(400, "Évènement Notion invalide.")
    event_id, kind_name = event.get("id"), event.get("type")
    if not (isinstance(event_id, str) and EVENT_ID.match(event_id) and isinstance(kind_name, str)):
        raise Rejected(400, "Évènement Notion invalide.")
    if not kind_name.startswith("page."):
        return None
    entity = event.get("entity")
    data = event.get("data")
    parent = data.get("parent") if isinstance(data, dict) else None
    if not isinstance(entity, dict) or not isinstance(parent, dict):
        raise Rejected(400, "Évènement Notion invalide.")
    page_id = entity.get("id")
    if not (isinstance(page_id, str) and RECORD_ID.match(page_id)):
        raise Rejected(400, "Évènement Notion invalide.")
    parent_ids = [
        value
        for value in (parent.get("id"), parent.get("data_source_id"), parent.get("database_id"))
        if isinstance(value, str)
    ]
    kind = config.kind_of_parent(parent_ids)
    return None if kind is None else (kind, page_id, event_id)


def generic_request(request: Any) -> tuple[str, str, str, str | None]:
    """(kind, record, source, event id) from ``{"table", "record", "source", "event"?}``."""
    if not isinstance(request, dict):
        raise Rejected(422, "Le corps doit être un objet JSON.")
    unknown = set(request) - {"table", "record", "source", "event"}
    if unknown:
        raise Rejected(422, f"Champ inconnu : {sorted(unknown)[0][:40]!r}.")
    table, record = request.get("table"), request.get("record")
    source, event = request.get("source"), request.get("event")
    if not isinstance(table, str) or table not in GENERIC_TABLES:
        raise Rejected(422, "Table inconnue : « table » vaut « Missions » ou « Membres ».")
    if not isinstance(record, str) or not RECORD_ID.match(record):
        raise Rejected(422, "Identifiant de fiche invalide (« record »).")
    if not isinstance(source, str) or source not in GENERIC_SOURCES:
        raise Rejected(422, "Source inconnue : « source » vaut airtable, notion ou local.")
    if event is not None and not (isinstance(event, str) and EVENT_ID.match(event)):
        raise Rejected(422, "Identifiant d'évènement invalide (« event »).")
    return GENERIC_TABLES[table], record, source, event
