"""The cooperative's records and the results of applying the charter, as plain data.

Nothing here knows where the records came from: a local folder of CSV files, Airtable or
Notion all end up as these dataclasses. Records refer to each other by ``id``: the record id in
the source (in a local folder, the record's primary value).

A field that held a bad value in the source is ``None`` here and its key is listed in the
record's ``invalid`` set: the problem was already reported once, so a rule that needs the value
skips the record silently instead of reporting it again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """A member's role: support staff are outside the associate deadline (art. 2)."""

    ENTREPRENEUR = "Entrepreneur·e"
    SUPPORT_STAFF = "Équipe d'appui"


class Channel(StrEnum):
    """How a resignation reached the cooperative (art. 9)."""

    EMAIL = "Email"
    LETTER = "Lettre"
    REGISTERED_LETTER = "Lettre recommandée AR"


class MemberStatus(StrEnum):
    """Membres.Statut: typed by the staff, or reached by a rule (exclusion, leaving)."""

    ACTIVE = "Actif·ve"
    LEFT = "Sorti·e"
    EXCLUDED = "Exclu·e"


class Stage(StrEnum):
    """Where a mission stands; stage dates count from Signée on (art. 4)."""

    QUOTE = "Devis"
    SIGNED = "Signée"
    IN_DEVELOPMENT = "En développement"
    MIDWAY = "Mi-parcours"
    DELIVERED = "Livrée"
    CANCELLED = "Annulée"


#: Stages at which a mission is signed and not cancelled.
SIGNED_STAGES = frozenset({Stage.SIGNED, Stage.IN_DEVELOPMENT, Stage.MIDWAY, Stage.DELIVERED})


class Involvement(StrEnum):
    """The bearer's involvement in a mission, which sets the commission rate (art. 4): 5 % for
    bringing the business, 15 % with the specification, 30 % when they also develop."""

    BUSINESS_BROUGHT = "Apport d'affaire"
    SPECIFICATION = "Cahier des charges"
    DEVELOPMENT = "Développement"


class Presence(StrEnum):
    """A member's attendance at a plenary; only unjustified absences count (art. 7)."""

    PRESENT = "Présent·e"
    EXCUSED = "Absence justifiée"
    UNJUSTIFIED = "Absence injustifiée"


@dataclass(frozen=True, slots=True)
class Row:
    """What a record read from an input table carries besides its own fields: its ``id``, and
    ``invalid``, the fields whose value could not be read (already reported): the rules needing
    them skip the record, the others do not. ``invalid`` is keyword-only, so that each table's
    own fields follow ``id`` in the constructor."""

    id: str
    invalid: frozenset[str] = field(default=frozenset(), kw_only=True)


@dataclass(frozen=True, slots=True)
class Member(Row):
    """A row of Membres as the rules read it."""

    name: str
    joined_on: date | None
    founder: bool = False
    email: str | None = None
    address: str | None = None
    role: Role | None = None
    associate_on: date | None = None
    sponsor_id: str | None = None
    resignation_received_on: date | None = None
    resignation_channel: Channel | None = None
    non_renewal: bool = False
    non_renewal_reason: str | None = None
    status: MemberStatus | None = None

    @property
    def is_entrepreneur(self) -> bool:
        """An empty role reads as entrepreneur: support staff are the exception."""
        return self.role is not Role.SUPPORT_STAFF


@dataclass(frozen=True, slots=True)
class Mission(Row):
    """A row of Missions: its stage and dates, its bearer and their involvement, its figures."""

    title: str
    stage: Stage | None
    client: str | None = None
    bearer_id: str | None = None
    bearer_involvement: Involvement | None = None
    project_manager_id: str | None = None
    lead_developer_id: str | None = None
    team_ids: tuple[str, ...] = ()
    revenue: Decimal | None = None
    direct_costs: Decimal = Decimal("0")
    mid_on: date | None = None
    delivered_on: date | None = None
    piloted_for_id: str | None = None


@dataclass(frozen=True, slots=True)
class Invoice(Row):
    """A row of Factures: the gross margin of its month counts toward the contribution (art. 3)."""

    number: str
    entrepreneur_id: str | None
    issued_on: date | None
    amount: Decimal | None
    direct_costs: Decimal = Decimal("0")
    mission_id: str | None = None

    @property
    def margin(self) -> Decimal:
        assert self.amount is not None
        return self.amount - self.direct_costs


@dataclass(frozen=True, slots=True)
class Plenary:
    """A monthly plenary (art. 7), by its date."""

    id: str
    title: str
    date: date | None


@dataclass(frozen=True, slots=True)
class Attendance:
    """One member's attendance at one plenary, as recorded:
    a member with no row for a plenary is not counted absent."""

    plenary_id: str
    member_id: str
    presence: Presence


@dataclass(frozen=True, slots=True)
class VolunteeringWeek:
    """Hours declared for the Atelier Digital in the week starting ``week`` (art. 13)."""

    member_id: str
    week: date
    hours: Decimal


@dataclass(frozen=True, slots=True)
class Workshop:
    """A workshop session held on a day; its kind is checked against the monthly list (art. 11)."""

    id: str
    title: str
    date: date
    kind: str


@dataclass(frozen=True, slots=True)
class Cooperative:
    """Every record the rules look at. A table the source does not have is ``None``."""

    members: dict[str, Member]
    missions: dict[str, Mission]
    invoices: list[Invoice] | None = None
    plenaries: dict[str, Plenary] | None = None
    attendance: list[Attendance] | None = None
    volunteering: list[VolunteeringWeek] | None = None
    workshops: list[Workshop] | None = None


class LedgerStatus(StrEnum):
    """Where a claimed key stands: ``pending`` until its delivery is known, then ``sent`` or
    ``failed``; ``historical`` when it fell due before the go-live date (never issued)."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    HISTORICAL = "historical"


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    """A document key already claimed in the ledger."""

    key: str
    kind: str
    status: LedgerStatus
    issued_on: date
    amount: Decimal | None = None
    member_id: str | None = None
    mission_id: str | None = None


Ledger = dict[str, LedgerEntry]


@dataclass(frozen=True, slots=True)
class Document:
    """A document that falls due.

    ``facts`` holds the figures the letter states (typed: ``Decimal``, ``date``, ``bool``...).
    ``trigger_on`` is the date that made it due, compared with the go-live date (§10).
    """

    kind: str
    key: str
    member_id: str
    facts: dict[str, Any]
    trigger_on: date | None = None
    mission_id: str | None = None
    sponsor_id: str | None = None
    registered: bool = False
    historical: bool = False

    @property
    def amount(self) -> Decimal | None:
        amount = self.facts.get("amount")
        return amount if isinstance(amount, Decimal) else None

    def as_historical(self) -> Document:
        """This document, due before go-live: recorded, never issued. (``dataclasses.replace``
        did the same ten times slower: 157,000 calls for the largest cooperatives.)"""
        return Document(
            self.kind,
            self.key,
            self.member_id,
            self.facts,
            self.trigger_on,
            self.mission_id,
            self.sponsor_id,
            self.registered,
            historical=True,
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """A situation the staff must look at. Alerts are recomputed by every run, never ledgered."""

    kind: str
    message: str
    member_id: str | None = None
    mission_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RuleError:
    """A record a rule could not apply to because a value is missing or wrong.

    ``table`` and ``field`` are English keys (``"missions"``, ``"revenue"``); the caller turns
    them into the labels the staff use.
    """

    table: str
    record_id: str
    field: str
    message: str


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A member's status reached by a rule on ``since``: left after a resignation or a
    non-renewal, or excluded. The run writes it back to Membres.Statut where it can."""

    member_id: str
    status: MemberStatus
    since: date


@dataclass(frozen=True, slots=True)
class Evaluation:
    """What a run finds on its day: the documents due, the alerts, the data errors,
    the status changes, and the rules skipped for a missing table."""

    documents: list[Document]
    alerts: list[Alert]
    errors: list[RuleError]
    status_changes: list[StatusChange]
    skipped_rules: list[str] = field(default_factory=list)
