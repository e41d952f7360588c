"""What ``cae check`` finds about one part of a run's setup, and the comparison of a table's
fields with what the rules read, whatever the source.

Each checker (``integrations.airtable_check``, ``notion_check``, ``smtp_check``,
``prefect_check``, ``local_check``) fills a ``Findings``: one French sentence per problem, each
saying what to fix, and short phrases for the "ready" summary. A source describes the fields it
found as ``FoundField``s (its own type names); ``check_fields`` compares them with the schema.

>>> findings = Findings()
>>> spec = TableSpec("plenaries", "Plénières", (FieldSpec("date", "Date", FieldType.DATE),))
>>> check_fields(findings, spec, {"Date": FoundField("checkbox")}, Vocabulary(
...     "la table Airtable", {FieldType.DATE: frozenset({"date"})}, {FieldType.DATE: "date"}))
>>> findings.problems[0].startswith("Le champ « Date » de la table Airtable « Plénières »")
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from settings.schema import FieldSpec, FieldType, TableSpec

#: What the rules read in a field of each type, for the staff.
READS = {
    FieldType.TEXT: "un texte",
    FieldType.LONG_TEXT: "un texte",
    FieldType.EMAIL: "une adresse e-mail",
    FieldType.SELECT: "un choix dans une liste",
    FieldType.DATE: "une date",
    FieldType.CHECKBOX: "une case à cocher",
    FieldType.LINK: "un lien vers une fiche",
    FieldType.LINKS: "des liens vers des fiches",
    FieldType.CURRENCY: "un montant",
    FieldType.NUMBER: "un nombre",
}


@dataclass
class Findings:
    """Problems (each a French sentence saying what to fix) and what was found ready."""

    problems: list[str] = field(default_factory=list)
    ready: list[str] = field(default_factory=list)
    #: Things worth knowing that do not stop a run (an optional table left out, say).
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Whether a run can go: no problem found."""
        return not self.problems

    def extend(self, other: Findings) -> None:
        """Add what another check found, in order."""
        for name in ("problems", "ready", "notes"):
            getattr(self, name).extend(getattr(other, name))


@dataclass(frozen=True)
class FoundField:
    """A field as the source has it: its type (the source's own name), its select options,
    and for a link the label of the table it points to (``None``: unknown)."""

    type: str | None = None
    options: tuple[str, ...] | None = None
    target: str | None = None


@dataclass(frozen=True)
class Vocabulary:
    """How one source names things: ``where`` ("la table Airtable"), the field types that can
    hold each of the schema's types, and the one to suggest."""

    where: str
    accepts: Mapping[FieldType, frozenset[str]]
    suggest: Mapping[FieldType, str]
    #: The types that hold select options the source lists (Airtable's singleSelect…).
    select_types: frozenset[str] = frozenset()
    #: The types of a link field, whose target is checked.
    link_types: frozenset[str] = frozenset()
    #: What the source's French interface calls each type.
    names: Mapping[str, str] = field(default_factory=dict)

    def kind(self, name: str) -> str:
        """A type as the staff see it: « Nombre » (number)."""
        return f"« {self.names[name]} » ({name})" if name in self.names else name


def _add(words: Vocabulary, field_spec: FieldSpec) -> str:
    kind = words.suggest.get(field_spec.type)
    return f"ajoutez-le, de type {words.kind(kind)}," if kind else "ajoutez la colonne,"


def mapping_hint(spec: TableSpec, field_spec: FieldSpec) -> str:
    return f'[mapping.{spec.key}] {field_spec.key} = "…"'


def check_fields(
    findings: Findings,
    spec: TableSpec,
    found: Mapping[str, FoundField],
    words: Vocabulary,
    link_labels: Mapping[str, str] | None = None,
    skip: frozenset[str] = frozenset(),
) -> None:
    """One problem per field of ``spec`` that ``found`` lacks, types wrongly, links to another
    table, or whose select options include one the rules do not know. ``link_labels`` gives
    the label of each table key a link may point to; ``skip``: field keys not to check."""
    where = f"{words.where} « {spec.label} »"
    for f in spec.fields:
        if f.key in skip:
            continue
        have = found.get(f.label)
        if have is None:
            findings.problems.append(
                f"{where[0].upper()}{where[1:]} n'a pas de champ « {f.label} », où les règles "
                f"lisent {READS[f.type]} : {_add(words, f)} ou nommez le bon champ dans "
                f"cae.toml : {mapping_hint(spec, f)}."
            )
            continue
        if have.type is None:
            continue
        if have.type not in words.accepts[f.type]:
            findings.problems.append(
                f"Le champ « {f.label} » de {where} est de type {words.kind(have.type)}, mais "
                f"les règles y lisent {READS[f.type]} : donnez-lui le type "
                f"{words.kind(words.suggest[f.type])}, ou nommez le bon champ dans cae.toml : "
                f"{mapping_hint(spec, f)}."
            )
            continue
        expected = (link_labels or {}).get(f.link_table or "")
        if have.type in words.link_types and expected and have.target not in (None, expected):
            findings.problems.append(
                f"Le champ « {f.label} » de {where} est lié à la table « {have.target} » : "
                f"il doit l'être à « {expected} »."
            )
        if f.options and have.type in words.select_types and have.options is not None:
            unknown = [o for o in have.options if o not in f.options]
            if unknown:
                findings.problems.append(
                    f"Le champ « {f.label} » de {where} propose "
                    f"{', '.join(f'« {o} »' for o in unknown)}, que les règles ne connaissent "
                    f"pas (les fiches qui le choisissent seront en erreur) : renommez ou "
                    f"supprimez ce choix ; les règles connaissent "
                    f"{', '.join(f'« {o} »' for o in f.options)}."
                )


def missing_options(
    findings: Findings,
    where: str,
    label: str,
    have: tuple[str, ...] | None,
    wanted: tuple[str, ...],
) -> None:
    """A ledger select must offer every value a run writes."""
    absent = [o for o in wanted if have is not None and o not in have]
    if absent:
        findings.problems.append(
            f"Le champ « {label} » de {where} ne propose pas "
            f"{', '.join(f'« {o} »' for o in absent)}, que la tournée y écrit : ajoutez ces "
            "choix."
        )
