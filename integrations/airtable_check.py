"""``cae check`` on Airtable: the token, its scopes, the base, its tables and fields, the
ledger's two tables and the saved webhook, read without changing anything.

It costs 2 to 3 requests: whoami (the token and its scopes), the base's schema (every table
and field with its type, select options and link targets), and the list of webhooks when one is
saved. A personal access token's whoami lists its scopes; when Airtable lists none, the schema
read still proves the token reads the base, and the write scope cannot be told.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import requests

from charter.french import long_date
from integrations import ledger_fields as ledger
from integrations.airtable import AirtableClient
from integrations.airtable_init import ledger_fields
from integrations.checks import Findings, FoundField, Vocabulary, check_fields, missing_options
from settings.defaults import PARIS
from settings.schema import FieldType, Schema

#: The scopes a run needs, and what for.
RUN_SCOPES = {
    "data.records:read": "lire les fiches",
    "data.records:write": "tenir le registre et écrire Membres.Statut",
    "schema.bases:read": "lire la structure de la base",
}
WEBHOOK_SCOPE = "webhook:manage"
#: A webhook expiring sooner than this is worth a word in the summary.
SOON = timedelta(days=2)

_TEXT = frozenset({"singleLineText", "multilineText", "richText", "email", "url", "phoneNumber"})
_COMPUTED = frozenset({"formula", "rollup", "multipleLookupValues"})
_LINKS = frozenset({"multipleRecordLinks"})
WORDS = Vocabulary(
    where="la table Airtable",
    accepts={
        FieldType.TEXT: _TEXT | _COMPUTED | {"singleSelect"},
        FieldType.LONG_TEXT: _TEXT | _COMPUTED | {"singleSelect"},
        FieldType.EMAIL: _TEXT | _COMPUTED,
        FieldType.SELECT: _TEXT | _COMPUTED | {"singleSelect"},
        FieldType.DATE: _TEXT | _COMPUTED | {"date"},
        FieldType.CHECKBOX: _TEXT | _COMPUTED | {"checkbox"},
        FieldType.LINK: _LINKS,
        FieldType.LINKS: _LINKS,
        FieldType.CURRENCY: _TEXT | _COMPUTED | {"currency", "number"},
        FieldType.NUMBER: _TEXT | _COMPUTED | {"number", "currency", "percent", "count"},
    },
    suggest={
        FieldType.TEXT: "singleLineText",
        FieldType.LONG_TEXT: "multilineText",
        FieldType.EMAIL: "email",
        FieldType.SELECT: "singleSelect",
        FieldType.DATE: "date",
        FieldType.CHECKBOX: "checkbox",
        FieldType.LINK: "multipleRecordLinks",
        FieldType.LINKS: "multipleRecordLinks",
        FieldType.CURRENCY: "currency",
        FieldType.NUMBER: "number",
    },
    select_types=frozenset({"singleSelect"}),
    link_types=_LINKS,
    names={
        "singleLineText": "Texte sur une ligne",
        "multilineText": "Texte long",
        "email": "E-mail",
        "singleSelect": "Sélection unique",
        "multipleSelects": "Sélection multiple",
        "date": "Date",
        "dateTime": "Date et heure",
        "checkbox": "Case à cocher",
        "multipleRecordLinks": "Lien vers un autre enregistrement",
        "currency": "Devise",
        "number": "Nombre",
        "percent": "Pourcentage",
    },
)
_AMOUNTS = frozenset({"number", "currency", "percent"})


class SavedWebhook(NamedTuple):
    """The webhook the receiver listens for: its id, and the block or file its secret is
    saved in (``CAE_AIRTABLE_WEBHOOK``)."""

    webhook_id: str
    saved_as: str


_TOKEN_HINT = (
    "vérifiez AIRTABLE_TOKEN (ou le bloc Secret nommé dans CAE_AIRTABLE_TOKEN_BLOCK), qui doit "
    "être un jeton personnel « pat… » en cours de validité"
)


def _status(error: requests.HTTPError) -> int | None:
    return error.response.status_code if error.response is not None else None


def check_airtable(
    client: AirtableClient, schema: Schema, webhook: SavedWebhook | None = None
) -> Findings:
    """Everything a run on this base needs, and the saved webhook if any."""
    findings = Findings()
    base_id = client.settings.base_id
    try:
        scopes = client.api.whoami().get("scopes")
    except requests.HTTPError as error:
        if _status(error) == 401:
            findings.problems.append(f"Airtable refuse le jeton : {_TOKEN_HINT}.")
            return findings
        raise
    except requests.ConnectionError:
        findings.problems.append(
            f"Airtable ne répond pas ({client.settings.endpoint_url}) : vérifiez la connexion "
            "à Internet de cette machine."
        )
        return findings
    wanted = dict(RUN_SCOPES)
    if webhook:
        wanted[WEBHOOK_SCOPE] = "prolonger le webhook"
    if isinstance(scopes, list):
        for scope, purpose in wanted.items():
            if scope not in scopes:
                findings.problems.append(
                    f"Le jeton Airtable n'a pas la permission {scope} (pour {purpose}) : "
                    "ajoutez-la au jeton (Airtable → Builder hub → Personal access tokens)."
                )
        if "schema.bases:read" not in scopes:
            return findings
        findings.ready.append("jeton Airtable valide, avec les permissions nécessaires")
    else:
        findings.notes.append(
            "Airtable ne dit pas les permissions de ce jeton : vérifiez qu'il a "
            f"{', '.join(wanted)}."
        )
    try:
        tables = client.api.get(client.base.urls.tables)["tables"]
    except requests.HTTPError as error:
        if _status(error) not in (403, 404):
            raise
        findings.problems.append(
            f"La base Airtable {base_id} est introuvable, ou le jeton n'y a pas accès : "
            "vérifiez AIRTABLE_BASE_ID (ou [airtable] base_id dans cae.toml) et ajoutez la "
            "base au jeton (Personal access tokens → Access)."
        )
        return findings
    _check_tables(findings, schema, tables)
    _check_ledger(findings, schema, tables)
    if webhook and (not isinstance(scopes, list) or WEBHOOK_SCOPE in scopes):
        check_webhook(findings, client, webhook)
    return findings


def _found(table: dict[str, Any], names: dict[str, str]) -> dict[str, FoundField]:
    """The fields of a table of the schema answer, by name."""
    fields: dict[str, FoundField] = {}
    for f in table.get("fields", []):
        options = f.get("options") or {}
        choices = options.get("choices")
        fields[f["name"]] = FoundField(
            f.get("type"),
            tuple(c["name"] for c in choices) if isinstance(choices, list) else None,
            names.get(options.get("linkedTableId", "")),
        )
    return fields


def _check_tables(findings: Findings, schema: Schema, tables: list[dict[str, Any]]) -> None:
    names = {t["id"]: t["name"] for t in tables}
    by_name = {t["name"]: t for t in tables}
    labels = {key: spec.label for key, spec in schema.tables.items()}
    missing = []
    for spec in schema.tables.values():
        table = by_name.get(spec.label)
        if table is None:
            if spec.required:
                findings.problems.append(
                    f"La base Airtable n'a pas de table « {spec.label} », obligatoire : "
                    f"créez-la (cae airtable init), ou nommez la bonne dans cae.toml : "
                    f'[mapping.{spec.key}] table = "…".'
                )
            else:
                missing.append(spec.label)
            continue
        check_fields(findings, spec, _found(table, names), WORDS, labels)
    if missing:
        findings.notes.append(
            f"Tables facultatives absentes : {', '.join(missing)} ; les règles qui en ont "
            "besoin ne tourneront pas."
        )
    findings.ready.append(
        f"{len(schema.tables) - len(missing)} tables lues par les règles, avec leurs champs"
    )


def _check_ledger(findings: Findings, schema: Schema, tables: list[dict[str, Any]]) -> None:
    by_name = {t["name"]: t for t in tables}
    ids = {t["name"]: t["id"] for t in tables}
    members = ids.get(schema.label("members"), "")
    missions = ids.get(schema.label("missions"), "")
    absent = []
    for name, payouts in ((ledger.PAYOUTS, True), (ledger.LETTERS, False)):
        table = by_name.get(name)
        if table is None:
            absent.append(name)
            continue
        have = _found(table, {v: k for k, v in ids.items()})
        where = f"la table « {name} » du registre"
        for definition in ledger_fields(payouts, members, missions):
            label, kind = definition["name"], definition["type"]
            found = have.get(label)
            if found is None:
                findings.problems.append(
                    f"Le champ « {label} » manque dans {where} : lancez « cae airtable init », "
                    "qui ajoute ce qui manque sans toucher au reste."
                )
            elif found.type != kind and not {found.type, kind} <= _AMOUNTS:
                findings.problems.append(
                    f"Le champ « {label} » de {where} est de type {WORDS.kind(found.type)} : la "
                    f"tournée y écrit un {WORDS.kind(kind)} ; changez son type."
                )
            elif kind == "singleSelect":
                choices = definition["options"]["choices"]
                wanted = tuple(c["name"] for c in choices)
                missing_options(findings, where, label, found.options, wanted)
    for name in absent:
        findings.problems.append(
            f"La base Airtable n'a pas la table « {name} » du registre (la tournée y note chaque "
            "document émis) : lancez « cae airtable init », qui l'ajoute sans toucher au reste."
        )
    if not absent:
        findings.ready.append("registre (Versements, Courriers) en place")


def check_webhook(findings: Findings, client: AirtableClient, webhook: SavedWebhook) -> None:
    """The saved webhook is still registered, enabled, and when it expires."""
    webhook_id = webhook.webhook_id
    hooks = client.api.get(client.base.urls.webhooks).get("webhooks", [])
    hook = next((h for h in hooks if h.get("id") == webhook_id), None)
    fix = (
        "recréez-le : cae airtable webhook create --url https://…/webhooks/airtable "
        f"--save {webhook.saved_as}"
    )
    if hook is None:
        findings.problems.append(
            f"Le webhook Airtable {webhook_id} n'est plus enregistré chez Airtable (expiré "
            f"faute d'avoir été prolongé ?) : {fix}."
        )
        return
    expiration = hook.get("expirationTime")
    until = datetime.fromisoformat(expiration) if expiration else None
    now = datetime.now(UTC)
    if until is not None and until <= now:
        findings.problems.append(f"Le webhook Airtable {webhook_id} a expiré : {fix}.")
        return
    if hook.get("isHookEnabled") is False:
        findings.problems.append(
            f"Airtable a désactivé le webhook {webhook_id} (trop d'envois sans réponse) : "
            f"vérifiez que le récepteur répond, puis {fix}."
        )
        return
    if until is None:
        findings.ready.append(f"webhook {webhook_id} enregistré")
        return
    day = long_date(until.astimezone(PARIS).date())
    findings.ready.append(f"webhook {webhook_id} enregistré jusqu'au {day}")
    if until - now < SOON:
        findings.notes.append(
            f"Le webhook {webhook_id} expire le {day} : prolongez-le "
            "(cae airtable webhook refresh)."
        )
