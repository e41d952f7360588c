"""``cae check`` on Notion: the token, and each database of ``[notion.databases]``: shared with
the integration, with the properties the rules read (types, select options, relations to the
right database) and, for the ledger's two, the properties a run writes (their select options
need not be there: Notion adds an option on the first write that uses it).

It costs one request for the token (users/me) and one or two per database (the database, when
its data source id is not in ``cae.toml``, then the data source's schema). Notion does not tell
an integration's capabilities: that it may update and insert content shows only on a write,
which the check never makes.
"""

from __future__ import annotations

from typing import Any

import httpx
from notion_client import APIErrorCode, APIResponseError

from integrations.checks import Findings, FoundField, Vocabulary, check_fields
from integrations.notion import MISSING, NotionClient
from integrations.notion_init import PROPERTY_TYPES, DatabasePlan, plans
from integrations.notion_ledger import TABLE_KEYS as LEDGER_KEYS
from settings.schema import FieldType, Schema

_COMPUTED = frozenset({"formula", "rollup"})
_RELATION = frozenset({"relation"})
WORDS = Vocabulary(
    where="la base Notion",
    accepts={
        FieldType.TEXT: _COMPUTED
        | {"title", "rich_text", "select", "status", "email", "url", "phone_number", "number"},
        FieldType.LONG_TEXT: _COMPUTED | {"title", "rich_text"},
        FieldType.EMAIL: _COMPUTED | {"email", "rich_text", "title"},
        FieldType.SELECT: _COMPUTED | {"select", "status", "rich_text", "title"},
        FieldType.DATE: _COMPUTED | {"date", "rich_text"},
        FieldType.CHECKBOX: _COMPUTED | {"checkbox", "rich_text"},
        FieldType.LINK: _RELATION,
        FieldType.LINKS: _RELATION,
        FieldType.CURRENCY: _COMPUTED | {"number", "rich_text"},
        FieldType.NUMBER: _COMPUTED | {"number", "rich_text"},
    },
    suggest=PROPERTY_TYPES,
    select_types=frozenset({"select", "status"}),
    link_types=_RELATION,
    names={
        "title": "Titre",
        "rich_text": "Texte",
        "number": "Nombre",
        "select": "Sélection",
        "multi_select": "Multi-sélection",
        "status": "Statut",
        "date": "Date",
        "checkbox": "Case à cocher",
        "email": "E-mail",
        "relation": "Relation",
    },
)
_INIT = "lancez « cae notion init » (avec les ids de cae.toml), qui ajoute ce qui manque"


def check_notion(client: NotionClient, schema: Schema) -> Findings:
    """Everything a run on these databases needs."""
    findings = Findings()
    try:
        client.api.users.me()
    except APIResponseError as error:
        if error.code != APIErrorCode.Unauthorized:
            raise
        findings.problems.append(
            "Notion refuse le jeton : vérifiez NOTION_TOKEN (ou le bloc Secret nommé dans "
            "CAE_NOTION_TOKEN_BLOCK), le secret de l'intégration (« ntn_… » ou « secret_… »)."
        )
        return findings
    except httpx.TransportError:
        findings.problems.append(
            f"Notion ne répond pas ({client.settings.base_url}) : vérifiez la connexion à "
            "Internet de cette machine."
        )
        return findings
    findings.ready.append("jeton Notion valide")
    wanted = plans(schema)
    required = {key for key, spec in schema.tables.items() if spec.required}
    required |= set(LEDGER_KEYS.values())
    found: dict[str, dict[str, Any]] = {}
    sources: dict[str, str] = {}
    absent = []
    for plan in wanted:
        ids = client.settings
        if not (ids.databases.get(plan.key) or ids.data_sources.get(plan.key)):
            if plan.key in required:
                findings.problems.append(
                    f"Aucune base Notion n'est indiquée pour « {plan.title} » : ajoutez son id "
                    f'dans cae.toml ([notion.databases] {plan.key} = "…"), ou créez-la : '
                    "cae notion init --parent ID_DE_PAGE."
                )
            else:
                absent.append(plan.title)
            continue
        properties = _properties(findings, client, plan)
        if properties is not None:
            found[plan.key] = properties
            sources[plan.key] = client.data_source(plan.key) or ""
    if absent:
        findings.notes.append(
            f"Tables facultatives sans base Notion : {', '.join(absent)} ; les règles qui en "
            "ont besoin ne tourneront pas."
        )
    labels = {key: spec.label for key, spec in schema.tables.items()}
    by_source = {_bare(s): labels.get(key, key) for key, s in sources.items()}
    for plan in wanted:
        if plan.key not in found:
            continue
        have = _found(found[plan.key], by_source)
        if plan.key in schema.tables:
            check_fields(findings, schema.table(plan.key), have, WORDS, labels)
        else:
            _check_ledger(findings, plan, have)
    if len(found) == len(wanted) - len(absent):
        findings.ready.append(f"{len(found)} bases Notion partagées, avec leurs propriétés")
    return findings


def _bare(identifier: str) -> str:
    return identifier.replace("-", "")


def _properties(
    findings: Findings, client: NotionClient, plan: DatabasePlan
) -> dict[str, Any] | None:
    """The data source's properties, or ``None`` (and the problem) when it is out of reach."""
    try:
        source = client.data_source(plan.key)
        if source is None:
            raise AssertionError(plan.key)  # configured: it has a database or a data source
        return dict(client.api.data_sources.retrieve(data_source_id=source)["properties"])
    except APIResponseError as error:
        if error.code not in MISSING:
            raise
    database = client.settings.databases.get(plan.key) or client.settings.data_sources[plan.key]
    findings.problems.append(
        f"La base Notion « {plan.title} » ({database}) est introuvable ou n'est pas partagée "
        "avec l'intégration : dans Notion, ouvrez-la, menu ••• → Connexions, et ajoutez "
        "l'intégration (ou corrigez son id dans cae.toml)."
    )
    return None


def _found(properties: dict[str, Any], by_source: dict[str, str]) -> dict[str, FoundField]:
    fields: dict[str, FoundField] = {}
    for name, prop in properties.items():
        kind = prop.get("type")
        config = prop.get(kind) if isinstance(kind, str) else None
        config = config if isinstance(config, dict) else {}
        options = config.get("options")
        fields[name] = FoundField(
            kind,
            tuple(o["name"] for o in options) if isinstance(options, list) else None,
            by_source.get(_bare(str(config.get("data_source_id", "")))),
        )
    return fields


def _check_ledger(findings: Findings, plan: DatabasePlan, have: dict[str, FoundField]) -> None:
    where = f"la base Notion « {plan.title} » du registre"
    wanted = {label: next(iter(config)) for label, config in plan.properties.items()}
    wanted |= dict.fromkeys(plan.relations, "relation")
    for label, kind in wanted.items():
        found = have.get(label)
        if found is None:
            findings.problems.append(f"La propriété « {label} » manque dans {where} : {_INIT}.")
        elif found.type != kind:
            findings.problems.append(
                f"La propriété « {label} » de {where} est de type {WORDS.kind(found.type or '')} "
                f": la tournée y écrit un {WORDS.kind(kind)} ; changez son type."
            )
