"""``cae notion init``: build the cooperative's databases in Notion, from nothing.

Under a parent page shared with the integration: one database per table of docs/data-model.md and
the ledger's two (Versements, Courriers), each with its properties and select options (one
request each); relations come second, once the data sources they point to exist (one update
per database that has any). Notion wants one title property per database: the table's primary
field, or « Intitulé » for Présences and Bénévolat, whose primary field is a link.

Databases already named in ``[notion.databases]`` are completed, not created again: run it a
second time with the printed ids in ``cae.toml`` and it only adds what is missing.
``--with-example`` then loads the bundled example cooperative, one request a page.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from integrations import ledger_fields as ledger
from integrations.ledger_fields import TABLE_KEYS as LEDGER_KEYS
from integrations.notion import NotionClient, outcome_unknown
from integrations.notion_ledger import TYPES as LEDGER_TYPES
from integrations.notion_properties import property_value, text
from integrations.refusals import Context, refused
from integrations.workbook import LocalWorkbook, with_ids
from settings.schema import FieldSpec, FieldType, Schema, TableSpec

#: The title property of a table whose primary field is a link.
TITLE = "Intitulé"

#: The Notion property type of each field type.
PROPERTY_TYPES = {
    FieldType.TEXT: "rich_text",
    FieldType.LONG_TEXT: "rich_text",
    FieldType.EMAIL: "email",
    FieldType.SELECT: "select",
    FieldType.DATE: "date",
    FieldType.CHECKBOX: "checkbox",
    FieldType.LINK: "relation",
    FieldType.LINKS: "relation",
    FieldType.CURRENCY: "number",
    FieldType.NUMBER: "number",
}
_OPTIONS = {ledger.KIND: ledger.KINDS, ledger.STATUS: ledger.STATUSES}
_LEDGER_FORMATS = {ledger.RATE: "percent"}  # every other number of the ledger is an amount
#: Fields of one ledger table only (as in ``cae airtable init``).
_ONLY_IN = {
    ledger.RATE: ledger.PAYOUTS,
    ledger.MARGIN: ledger.PAYOUTS,
    ledger.TOTAL: ledger.PAYOUTS,
    ledger.PAID_BEFORE: ledger.PAYOUTS,
    ledger.DATE: ledger.LETTERS,
}


def property_schema(
    kind: str, options: tuple[str, ...] = (), number_format: str = "number"
) -> dict[str, Any]:
    """A property's configuration, as ``databases.create`` and ``data_sources.update`` take it.

    >>> property_schema("select", ("Devis", "Signée"))
    {'select': {'options': [{'name': 'Devis'}, {'name': 'Signée'}]}}
    """
    if kind == "select":
        return {kind: {"options": [{"name": option} for option in options]}}
    if kind == "number":
        return {kind: {"format": number_format}}
    return {kind: {}}


def relation_schema(data_source_id: str) -> dict[str, Any]:
    return {
        "relation": {
            "data_source_id": data_source_id,
            "type": "single_property",
            "single_property": {},
        }
    }


def title_label(spec: TableSpec) -> str:
    """The title property of a table's database."""
    return TITLE if spec.primary.link_table is not None else spec.primary.label


@dataclass(frozen=True)
class DatabasePlan:
    """One database to have: its table key, title, properties, and relations (label → the
    table key they point to)."""

    key: str
    title: str
    properties: dict[str, dict[str, Any]]
    relations: dict[str, str]


def _field_schema(spec: FieldSpec) -> dict[str, Any]:
    number_format = "euro" if spec.type is FieldType.CURRENCY else "number"
    return property_schema(PROPERTY_TYPES[spec.type], spec.options, number_format)


def plans(schema: Schema) -> list[DatabasePlan]:
    """The databases of docs/data-model.md under the mapping's labels, then the ledger's two."""
    result = []
    for spec in schema.tables.values():
        title = title_label(spec)
        properties: dict[str, dict[str, Any]] = {title: {"title": {}}}
        properties |= {
            f.label: _field_schema(f)
            for f in spec.fields
            if f.link_table is None and f.label != title
        }
        relations = {f.label: f.link_table for f in spec.fields if f.link_table}
        result.append(DatabasePlan(spec.key, spec.label, properties, relations))
    for table, key in LEDGER_KEYS.items():
        properties = {
            label: property_schema(
                kind, _OPTIONS.get(label, ()), _LEDGER_FORMATS.get(label, "euro")
            )
            for label, kind in LEDGER_TYPES.items()
            if kind != "relation" and _ONLY_IN.get(label, table) == table
        }
        relations = {ledger.MEMBER: "members", ledger.MISSION: "missions"}
        result.append(DatabasePlan(key, table, properties, relations))
    return result


@dataclass
class InitReport:
    databases: dict[str, str] = field(default_factory=dict)  # table key → database id
    data_sources: dict[str, str] = field(default_factory=dict)  # table key → data source id
    created: list[str] = field(default_factory=list)  # database titles
    properties_added: list[str] = field(default_factory=list)  # "Database.Property"
    records_created: int = 0

    def toml(self) -> str:
        """The ids, as ``cae.toml`` wants them."""
        lines = []
        for section, ids in (("databases", self.databases), ("data_sources", self.data_sources)):
            lines.append(f"[notion.{section}]")
            lines += [f'{key} = "{value}"' for key, value in ids.items()]
        return "\n".join(lines) + "\n"


def init_workspace(
    client: NotionClient, schema: Schema, parent: str | None, example: Path | None = None
) -> InitReport:
    """Create the databases ``[notion.databases]`` does not name under the page ``parent``,
    add what the others lack; with ``example``, load that CSV folder's records."""
    report = InitReport()
    wanted = plans(schema)
    have: dict[str, dict[str, Any]] = {}
    for plan in wanted:
        database = client.settings.databases.get(plan.key)
        if database:
            with refused(_context(plan)):
                source = client.data_source(plan.key)
                assert source is not None
                found = client.api.data_sources.retrieve(data_source_id=source)
            have[plan.key] = found["properties"]
        else:
            with refused(Context("notion", "init")):
                database, source = _create(client, report, plan, parent)
            have[plan.key] = dict(plan.properties)
        report.databases[plan.key], report.data_sources[plan.key] = database, source
    for plan in wanted:
        changes = _missing(plan, have[plan.key], report.data_sources)
        if changes:
            with refused(_context(plan)):
                client.api.data_sources.update(
                    data_source_id=report.data_sources[plan.key], properties=changes
                )
            report.properties_added += [f"{plan.title}.{label}" for label in changes]
    if example is not None:
        with refused(Context("notion", "insert")):
            report.records_created = load_records(client, schema, report.data_sources, example)
    return report


def _context(plan: DatabasePlan) -> Context:
    return Context("notion", "init", table=plan.title, database_key=plan.key)


def _create(
    client: NotionClient, report: InitReport, plan: DatabasePlan, parent: str | None
) -> tuple[str, str]:
    if not parent:
        raise ValueError(
            f"La base « {plan.title} » est à créer : donnez la page qui l'accueillera "
            "(--parent ID_DE_PAGE), ou son id dans [notion.databases]."
        )
    try:
        created = client.api.databases.create(
            parent={"type": "page_id", "page_id": parent},
            title=text(plan.title),
            initial_data_source={"properties": plan.properties},
        )
    except Exception as error:
        if not outcome_unknown(error):
            raise
        raise RuntimeError(
            f"Notion n'a pas confirmé la création de la base « {plan.title} » ({error}) : elle a "
            "pu être créée. Vérifiez la page parente, mettez les ids des bases déjà créées "
            f"dans cae.toml, puis relancez.\n{report.toml()}"
        ) from error
    report.created.append(plan.title)
    return created["id"], created["data_sources"][0]["id"]


def _missing(
    plan: DatabasePlan, have: dict[str, Any], sources: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """The properties a database lacks, relations included; a title under another name is
    renamed rather than duplicated."""
    changes: dict[str, dict[str, Any]] = {}
    for label, config in plan.properties.items():
        if label in have:
            continue
        if "title" in config:
            if label != TITLE:  # any title will do for Présences and Bénévolat
                current = next(n for n, p in have.items() if p.get("type") == "title")
                changes[current] = {"name": label}
            continue
        changes[label] = config
    for label, target in plan.relations.items():
        if label not in have:
            changes[label] = relation_schema(sources[target])
    return changes


def load_records(
    client: NotionClient, schema: Schema, sources: dict[str, str], folder: Path
) -> int:
    """Copy a CSV folder's records into the databases: links by name become page ids.

    As with ``cae airtable init``, values a typed property cannot hold stay empty and links to
    records that do not exist are dropped; unknown select values are kept (Notion adds the
    option), so the daily job reports them as it would from the folder.
    """
    tables = LocalWorkbook(folder).read(schema).tables
    ids: dict[str, dict[str, str]] = {}
    created = 0
    for key, records in tables.items():
        spec = schema.table(key)
        title = title_label(spec)
        deferred = [f for f in spec.fields if f.link_table == key]  # e.g. a member's sponsor
        first = [f for f in spec.fields if f not in deferred]
        ids[key] = {}
        for record in records:
            properties = _properties(spec, record.values, ids, first)
            properties.setdefault(title, property_value("title", _describe(spec, record.values)))
            page = client.create_page(sources[key], properties, title)
            ids[key][record.id] = page["id"]
            created += 1
        for record in records:
            later = _properties(spec, record.values, ids, deferred)
            if later:
                client.update_page(ids[key][record.id], later)
    return created


def _properties(
    spec: TableSpec, values: dict[str, Any], ids: dict[str, dict[str, str]], fields: list[FieldSpec]
) -> dict[str, Any]:
    """The properties of a record read from the folder, as Notion takes them."""
    title = title_label(spec)
    return {
        f.label: property_value("title" if f.label == title else PROPERTY_TYPES[f.type], value)
        for f, value in with_ids(fields, values, ids)
    }


def _describe(spec: TableSpec, values: dict[str, Any]) -> str:
    """A title for a page whose table has none of its own: its values, « – » between them."""
    parts = [values[f.key] for f in spec.fields if f.key in values]
    return " – ".join(", ".join(p) if isinstance(p, list) else str(p) for p in parts)
