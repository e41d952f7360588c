"""The charter's records built from what any source read (docs/charter.md, "bad records").

>>> tables = LocalWorkbook(Path("exemple")).read(schema)
>>> cooperative, errors = assemble(tables, schema)
>>> cooperative.members["Alice Martin"].joined_on
datetime.date(2024, 3, 1)

A source has typed the values and reported what it could not read (``tables.errors``, not
repeated here). What only the whole set can tell is checked here: duplicate primary values,
select values, links between records. A record or value that does not pass is reported once and
left out; every other record is still built.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from charter.model import (
    Attendance,
    Channel,
    Cooperative,
    Invoice,
    Involvement,
    Member,
    MemberStatus,
    Mission,
    Plenary,
    Presence,
    Role,
    Stage,
    VolunteeringWeek,
    Workshop,
)
from integrations.base import DataError, SourceRecord, SourceTables
from integrations.cells import quoted
from settings.schema import UNNAMED_TABLES, Schema, TableSpec

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
ZERO = Decimal("0")


def assemble(tables: SourceTables, schema: Schema) -> tuple[Cooperative, list[DataError]]:
    """The cooperative's records, and the errors found while building them.

    Optional tables absent from ``tables.tables`` are ``None`` in the result.
    """
    assembly = Assembly(schema)
    for key in schema.tables:
        if key in tables.tables:
            assembly.add(key, tables.tables[key])
    return assembly.finish()


def _normalized(text: str | None) -> str:
    return unicodedata.normalize("NFC", (text or "").strip())


def _as(enum: type[E], value: str | None) -> E | None:
    return None if value is None else enum(value)


class Assembly:
    """The cooperative built table by table as a source reads them (``SourceTables.add``).

    A source hands each table over in the schema's order, the order of the links (a table
    links only to itself and to the tables before it): a table not handed over before a later
    one is absent. Each table is built as it arrives and its records as read are let go, so a
    large cooperative is never held twice (bench/README.md, memory at L).
    """

    def __init__(self, schema: Schema) -> None:
        self.assembler = _Assembler(schema)
        self.order = list(schema.tables)
        self.done = 0  # how many tables of ``order`` are built or known absent

    def add(self, key: str, records: list[SourceRecord]) -> None:
        """Build the table ``key`` from its records."""
        index = self.order.index(key)
        if index < self.done:
            raise ValueError(f"table {key} handed over after a table that links to it")
        self.done = index + 1
        self.assembler.add(key, records)

    def finish(self) -> tuple[Cooperative, list[DataError]]:
        """The cooperative's records, and the errors found while building them."""
        return self.assembler.cooperative(), self.assembler.errors


class _Assembler:
    def __init__(self, schema: Schema) -> None:
        self.schema = schema
        self.errors: list[DataError] = []
        #: Ids of every record a source has, built or not: a link elsewhere is dangling.
        self.known: dict[str, set[str]] = {}
        #: Ids of the records built so far, which links may point to, each to itself: a link
        #: keeps the record's own id string, not one more copy of it per link read.
        self.built: dict[str, dict[str, str]] = {}
        #: The records built, by table key (the tables the source has).
        self.tables: dict[str, list[Any]] = {}

    def add(self, key: str, records: list[SourceRecord]) -> None:
        self.known[key] = {r.id for r in records}
        # By name: bound methods kept in the instance would make a cycle, freed only by the
        # cycle collector, and ``known`` and ``built`` with it.
        built = self._build(key, records, getattr(self, f"_{_MAKERS[key]}"))
        if key == "members":
            built = self._without_sponsorship_loops(built, records)
        self.tables[key] = built

    def cooperative(self) -> Cooperative:
        present = self.tables
        members, missions = present.get("members", []), present.get("missions", [])
        plenaries = present.get("plenaries")
        return Cooperative(
            members={m.id: m for m in members},
            missions={m.id: m for m in missions},
            invoices=present.get("invoices"),
            plenaries=None if plenaries is None else {p.id: p for p in plenaries},
            attendance=present.get("attendance"),
            volunteering=present.get("volunteering"),
            workshops=present.get("workshops"),
        )

    def _build(
        self, key: str, records: list[SourceRecord], make: Callable[[_Fields], T | None]
    ) -> list[T]:
        spec = self.schema.table(key)
        kept = self._kept(spec, records)
        # A table's own records are linkable while it is built (a member's sponsor).
        self.built[key] = {r.id: r.id for r in kept}
        built: list[T] = []
        for record in kept:
            item = make(_Fields(self, spec, record))
            if item is None:
                del self.built[key][record.id]
            else:
                built.append(item)
        return built

    def _kept(self, spec: TableSpec, records: list[SourceRecord]) -> list[SourceRecord]:
        """The records of a table, without those whose primary value is empty or shared."""
        if spec.key in UNNAMED_TABLES:
            return records
        label = spec.primary.label
        counts = Counter(_normalized(r.primary) for r in records)
        kept = []
        for record in records:
            primary = _normalized(record.primary)
            if not primary:
                if spec.primary.key not in record.invalid:
                    message = f"« {label} » est vide : l'enregistrement est ignoré."
                    self.report(spec, record, label, message)
            elif counts[primary] > 1:
                message = (
                    f"Doublon : {quoted(primary)} figure {counts[primary]} fois dans "
                    f"{spec.label} ; tous ces enregistrements sont ignorés, celui-ci compris."
                )
                self.report(spec, record, label, message)
            else:
                kept.append(record)
        return kept

    def report(self, spec: TableSpec, record: SourceRecord, field: str, message: str) -> None:
        self.errors.append(DataError(spec.label, record.name, field, message))

    def _member(self, f: _Fields) -> Member:
        return Member(
            id=f.id,
            name=f.primary,
            **f.values(
                "joined_on",
                "email",
                "address",
                "associate_on",
                "resignation_received_on",
                "non_renewal_reason",
                founder=False,
                non_renewal=False,
            ),
            role=_as(Role, f.select("role")),
            sponsor_id=self._sponsor(f),
            resignation_channel=_as(Channel, f.select("resignation_channel")),
            status=_as(MemberStatus, f.select("status")),
            invalid=f.frozen_invalid(),  # last: the calls above add to it
        )

    def _without_sponsorship_loops(
        self, members: list[Member], records: list[SourceRecord]
    ) -> list[Member]:
        """Break each loop of sponsors (A sponsors B who sponsors A…): one error per loop, on
        the member of the loop who comes last in the table, whose sponsor link is ignored."""
        by_id = {m.id: m for m in members}
        order = {m.id: index for index, m in enumerate(members)}
        cut: set[str] = set()
        for member in members:
            path: list[str] = []
            current: str | None = member.id
            while current is not None and current in by_id and current not in path:
                path.append(current)
                current = by_id[current].sponsor_id
                if current in cut:
                    current = None
            if current is None or current not in path:
                continue
            loop = path[path.index(current) :]
            last = max(loop, key=order.__getitem__)
            cut.add(last)
            start = loop.index(last)
            names = [by_id[i].name for i in loop[start + 1 :] + loop[: start + 1]]
            label = self.schema.label("members", "sponsor")
            chain = " → ".join(quoted(n) for n in [*names, names[0]])
            message = f"« {label} » : parrainage circulaire ({chain}) ; ce lien est ignoré."
            record = next(r for r in records if r.id == last)
            self.report(self.schema.table("members"), record, label, message)
        return [
            replace(m, sponsor_id=None, invalid=m.invalid | {"sponsor"}) if m.id in cut else m
            for m in members
        ]

    def _sponsor(self, f: _Fields) -> str | None:
        sponsor_id = f.link("sponsor")
        if sponsor_id != f.id:
            return sponsor_id
        f.reject(
            "sponsor",
            "un membre ne peut pas être son propre parrain ni sa propre marraine ; "
            "ce lien est ignoré.",
        )
        return None

    def _mission(self, f: _Fields) -> Mission:
        return Mission(
            id=f.id,
            title=f.primary,
            stage=_as(Stage, f.select("stage")),
            client=f.get("client"),
            bearer_id=f.link("bearer"),
            bearer_involvement=_as(Involvement, f.select("bearer_involvement")),
            project_manager_id=f.link("project_manager"),
            lead_developer_id=f.link("lead_developer"),
            team_ids=f.links("team"),
            **f.values("revenue", "mid_on", "delivered_on", direct_costs=ZERO),
            piloted_for_id=f.link("piloted_for"),
            invalid=f.frozen_invalid(),  # last: the calls above add to it
        )

    def _invoice(self, f: _Fields) -> Invoice:
        return Invoice(
            id=f.id,
            number=f.primary,
            entrepreneur_id=f.link("entrepreneur"),
            **f.values("issued_on", "amount", direct_costs=ZERO),
            mission_id=f.link("mission"),
            invalid=f.frozen_invalid(),  # last: the calls above add to it
        )

    def _plenary(self, f: _Fields) -> Plenary | None:
        day = f.get("date")
        return None if day is None else Plenary(f.id, f.primary, day)

    def _attendance(self, f: _Fields) -> Attendance | None:
        plenary_id, member_id = f.link("plenary"), f.link("member")
        presence = _as(Presence, f.select("presence"))
        if plenary_id is None or member_id is None or presence is None:
            return None
        return Attendance(plenary_id, member_id, presence)

    def _volunteering(self, f: _Fields) -> VolunteeringWeek | None:
        member_id, week, hours = f.link("member"), f.get("week"), f.get("hours")
        if member_id is None or week is None or hours is None:
            return None
        return VolunteeringWeek(member_id, week, hours)

    def _workshop(self, f: _Fields) -> Workshop | None:
        day, kind = f.get("date"), f.select("kind")
        if day is None or kind is None:
            return None
        return Workshop(f.id, f.primary, day, kind)


#: The method that builds a record of each table, by table key.
_MAKERS = {
    "members": "member",
    "missions": "mission",
    "invoices": "invoice",
    "plenaries": "plenary",
    "attendance": "attendance",
    "volunteering": "volunteering",
    "workshops": "workshop",
}
#: One empty set of invalid fields for every record that has none (Python makes a new one each
#: time: 216 bytes a record).
_NONE_INVALID: frozenset[str] = frozenset()


class _Fields:
    """One record's values as the dataclasses take them; what does not pass is reported."""

    def __init__(self, assembler: _Assembler, spec: TableSpec, record: SourceRecord) -> None:
        self.assembler = assembler
        self.spec = spec
        self.record = record
        self.id = record.id
        self.primary = _normalized(record.primary)
        self.invalid = set(record.invalid)

    def get(self, key: str, default: Any = None) -> Any:
        return self.record.values.get(key, default)

    def values(self, *keys: str, **defaults: Any) -> dict[str, Any]:
        """The plain values of ``keys`` (``None`` when empty) and of ``defaults``' keys (their
        default when empty), by key: what a dataclass takes as read, with nothing to check."""
        found = {key: self.get(key) for key in keys}
        found.update({key: self.get(key, default) for key, default in defaults.items()})
        return found

    def frozen_invalid(self) -> frozenset[str]:
        return frozenset(self.invalid) if self.invalid else _NONE_INVALID

    def reject(self, key: str, problem: str) -> None:
        """Report the value of ``key`` and treat it as empty."""
        label = self.spec.field(key).label
        self.assembler.report(self.spec, self.record, label, f"« {label} » : {problem}")
        self.invalid.add(key)

    def select(self, key: str) -> str | None:
        """The select's value when it is one of the field's options."""
        value = self.get(key)
        if value is None:
            return None
        options = self.spec.field(key).options
        value = _normalized(value)
        if value not in options:
            allowed = ", ".join(options)
            self.reject(
                key, f"{quoted(value)} n'est pas une valeur prévue (valeurs possibles : {allowed})."
            )
            return None
        return value

    def link(self, key: str) -> str | None:
        """The id of the linked record; ``None``, and the key invalid, if it is not built."""
        ids, complete = self._resolve(key)
        if not complete:
            self.invalid.add(key)
        return ids[0] if ids else None

    def links(self, key: str) -> tuple[str, ...]:
        """The ids of the linked records that are built, each once, in the source's order."""
        return tuple(dict.fromkeys(self._resolve(key)[0]))

    def _resolve(self, key: str) -> tuple[list[str], bool]:
        """The linked ids that are built, and whether every id was."""
        spec = self.spec.field(key)
        assert spec.link_table is not None
        target = spec.link_table
        built = self.assembler.built.get(target, {})
        known = self.assembler.known.get(target)
        ids: list[str] = []
        complete = True
        for link_id in self.get(key, []):
            if link_id in built:
                ids.append(built[link_id])
                continue
            complete = False
            # A record left out or a missing table was reported already: no second error.
            if known is not None and link_id not in known:
                target_label = self.assembler.schema.label(target)
                message = (
                    f"« {spec.label} » renvoie à {quoted(link_id)}, introuvable dans "
                    f"{target_label} : ce lien est ignoré."
                )
                self.assembler.report(self.spec, self.record, spec.label, message)
        return ids, complete
