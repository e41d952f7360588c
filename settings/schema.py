"""The tables and fields the cooperative's records hold, with their default French labels.

Code uses the English keys (``members``, ``joined_on``); the staff see the labels (``Membres``,
``Date d'adhésion``), which a cooperative may rename through the ``[mapping]`` section of
``cae.toml``:

.. code-block:: toml

    [mapping.members]
    table = "Adhérents"        # the table's label
    joined_on = "Date d'entrée" # a field's label, by its key

Every source (local CSV folder, Airtable, Notion) reads through this one schema.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum
from functools import cached_property
from typing import Any


class FieldType(StrEnum):
    TEXT = "text"
    LONG_TEXT = "long_text"
    EMAIL = "email"
    SELECT = "select"
    DATE = "date"
    CHECKBOX = "checkbox"
    LINK = "link"  # at most one linked record
    LINKS = "links"  # any number of linked records
    CURRENCY = "currency"
    NUMBER = "number"


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    type: FieldType
    required: bool = False  # the column must exist and every record must fill it
    options: tuple[str, ...] = ()  # allowed values of a select
    link_table: str | None = None  # the table key a link points to


@dataclass(frozen=True)
class TableSpec:
    key: str
    label: str
    fields: tuple[FieldSpec, ...]
    required: bool = False  # the table must exist

    @property
    def primary(self) -> FieldSpec:
        """The primary field is always the first."""
        return self.fields[0]

    def field(self, key: str) -> FieldSpec:
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"{self.key}.{key}") from None

    @cached_property
    def _by_key(self) -> dict[str, FieldSpec]:
        # Looked up for every cell of every record: a dict, not a scan of the fields.
        found: dict[str, FieldSpec] = {}
        for spec in self.fields:
            found.setdefault(spec.key, spec)
        return found


def _f(key: str, label: str, type_: FieldType, **kwargs: Any) -> FieldSpec:
    return FieldSpec(key, label, type_, **kwargs)


T = FieldType

MEMBERS = TableSpec(
    "members",
    "Membres",
    (
        _f("name", "Nom", T.TEXT, required=True),
        _f("email", "Email", T.EMAIL),
        _f("address", "Adresse", T.LONG_TEXT),
        _f("role", "Rôle", T.SELECT, options=("Entrepreneur·e", "Équipe d'appui")),
        _f("joined_on", "Date d'adhésion", T.DATE, required=True),
        _f("founder", "Membre fondateur·rice", T.CHECKBOX),
        _f("associate_on", "Date de sociétariat", T.DATE),
        _f("sponsor", "Parrain·marraine", T.LINK, link_table="members"),
        _f("resignation_received_on", "Démission reçue le", T.DATE),
        _f(
            "resignation_channel",
            "Démission reçue par",
            T.SELECT,
            options=("Email", "Lettre", "Lettre recommandée AR"),
        ),
        _f("non_renewal", "Non-renouvellement", T.CHECKBOX),
        _f("non_renewal_reason", "Motif de non-renouvellement", T.TEXT),
        _f("status", "Statut", T.SELECT, options=("Actif·ve", "Sorti·e", "Exclu·e")),
    ),
    required=True,
)

MISSIONS = TableSpec(
    "missions",
    "Missions",
    (
        _f("title", "Mission", T.TEXT, required=True),
        _f("client", "Client", T.TEXT),
        _f("bearer", "Porteur·euse", T.LINK, link_table="members"),
        _f(
            "bearer_involvement",
            "Implication du porteur·euse",
            T.SELECT,
            options=("Apport d'affaire", "Cahier des charges", "Développement"),
        ),
        _f("project_manager", "Chef·fe de projet", T.LINK, link_table="members"),
        _f("lead_developer", "Lead dev", T.LINK, link_table="members"),
        _f("team", "Équipe", T.LINKS, link_table="members"),
        _f("revenue", "CA HT", T.CURRENCY),
        _f("direct_costs", "Coûts directs", T.CURRENCY),
        _f(
            "stage",
            "Étape",
            T.SELECT,
            required=True,
            options=("Devis", "Signée", "En développement", "Mi-parcours", "Livrée", "Annulée"),
        ),
        _f("mid_on", "Date de mi-parcours", T.DATE),
        _f("delivered_on", "Date de livraison", T.DATE),
        _f("piloted_for", "Mission pilotée pour", T.LINK, link_table="members"),
    ),
    required=True,
)

INVOICES = TableSpec(
    "invoices",
    "Factures",
    (
        _f("number", "N°", T.TEXT, required=True),
        _f("entrepreneur", "Entrepreneur·e", T.LINK, link_table="members", required=True),
        _f("mission", "Mission", T.LINK, link_table="missions"),
        _f("issued_on", "Date", T.DATE, required=True),
        _f("amount", "Montant HT", T.CURRENCY, required=True),
        _f("direct_costs", "Coûts directs", T.CURRENCY),
    ),
)

PLENARIES = TableSpec(
    "plenaries",
    "Plénières",
    (
        _f("title", "Plénière", T.TEXT, required=True),
        _f("date", "Date", T.DATE, required=True),
    ),
)

ATTENDANCE = TableSpec(
    "attendance",
    "Présences",
    (
        # Présences has no meaningful primary field of its own: records are named "ligne N".
        _f("plenary", "Plénière", T.LINK, link_table="plenaries", required=True),
        _f("member", "Membre", T.LINK, link_table="members", required=True),
        _f(
            "presence",
            "Présence",
            T.SELECT,
            required=True,
            options=("Présent·e", "Absence justifiée", "Absence injustifiée"),
        ),
    ),
)

VOLUNTEERING = TableSpec(
    "volunteering",
    "Bénévolat",
    (
        _f("member", "Membre", T.LINK, link_table="members", required=True),
        _f("week", "Semaine", T.DATE, required=True),
        _f("hours", "Heures", T.NUMBER, required=True),
    ),
)

WORKSHOPS = TableSpec(
    "workshops",
    "Ateliers",
    (
        _f("title", "Atelier", T.TEXT, required=True),
        _f("date", "Date", T.DATE, required=True),
        _f("kind", "Type", T.SELECT, required=True, options=("Atelier technique", "Veille")),
    ),
)

#: The input tables, in the order they are read.
INPUT_TABLES = (MEMBERS, MISSIONS, INVOICES, PLENARIES, ATTENDANCE, VOLUNTEERING, WORKSHOPS)

#: Tables whose records have no primary value of their own: errors name them "ligne N".
UNNAMED_TABLES = frozenset({"attendance", "volunteering"})


@dataclass(frozen=True)
class Schema:
    """The tables with the labels a cooperative uses (defaults overridden by ``[mapping]``)."""

    tables: dict[str, TableSpec]

    @classmethod
    def default(cls) -> Schema:
        return cls({t.key: t for t in INPUT_TABLES})

    @classmethod
    def from_mapping(cls, mapping: dict[str, Any]) -> Schema:
        """Apply the ``[mapping]`` section of ``cae.toml``.

        >>> Schema.from_mapping({"members": {"table": "Adhérents"}}).table("members").label
        'Adhérents'

        Raises ``ValueError`` (French message) for an unknown table or field key.
        """
        tables = dict(cls.default().tables)
        for table_key, labels in mapping.items():
            if table_key not in tables:
                known = ", ".join(tables)
                raise ValueError(f"[mapping] : table inconnue « {table_key} » (connues : {known})")
            if not isinstance(labels, dict):
                raise ValueError(f"[mapping.{table_key}] doit être une table de libellés")
            spec = tables[table_key]
            field_specs = list(spec.fields)
            for field_key, label in labels.items():
                if not isinstance(label, str) or not label.strip():
                    raise ValueError(f"[mapping.{table_key}] {field_key} : libellé vide")
                if field_key == "table":
                    spec = replace(spec, label=label)
                    continue
                index = next((i for i, f in enumerate(field_specs) if f.key == field_key), None)
                if index is None:
                    known = ", ".join(f.key for f in field_specs)
                    raise ValueError(
                        f"[mapping.{table_key}] : champ inconnu « {field_key} » (connus : {known})"
                    )
                field_specs[index] = replace(field_specs[index], label=label)
            tables[table_key] = replace(spec, fields=tuple(field_specs))
        return cls(tables)

    def table(self, key: str) -> TableSpec:
        return self.tables[key]

    def label(self, table_key: str, field_key: str | None = None) -> str:
        table = self.tables[table_key]
        return table.label if field_key is None else table.field(field_key).label
