"""Who is a member on a given day (the charter, "Who the rules apply to").

A member leaves the day after the end of a valid resignation notice, on the renewal date of a
non-renewal whose letter was issued, or on the day their exclusion letter was issued. Members
whose status is "Sorti·e" or "Exclu·e" on ``as_of`` (typed by the staff or reached by a rule)
are out of every membership rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from charter.model import Cooperative, Ledger, Member, MemberStatus, StatusChange
from charter.notice import resignation_terms
from charter.params import CharterParams

OUT_STATUSES = frozenset({MemberStatus.LEFT, MemberStatus.EXCLUDED})


@dataclass(frozen=True)
class Departure:
    """The first day a member is no longer one, and the status they then have."""

    since: date
    status: MemberStatus


def _issued(ledger: Ledger, kind: str) -> Iterable[tuple[str, str, date]]:
    """(member id, key suffix, issue date) of the ledger's documents of one kind."""
    prefix = f"{kind}:"
    for entry in ledger.values():
        if entry.kind == kind and entry.member_id is not None and entry.key.startswith(prefix):
            yield entry.member_id, entry.key.rsplit(":", 1)[-1], entry.issued_on


def departures(
    coop: Cooperative, ledger: Ledger, params: CharterParams, as_of: date
) -> dict[str, Departure]:
    """The earliest departure of each member who leaves by a rule.

    ``ledger`` must hold the documents issued so far, including this run's exclusions.
    """
    found: dict[str, list[Departure]] = {}
    for member in coop.members.values():
        terms = resignation_terms(member, params)
        if terms and terms.effective_on and terms.received_on <= as_of:
            leaves = terms.effective_on + timedelta(days=1)
            found.setdefault(member.id, []).append(Departure(leaves, MemberStatus.LEFT))
    for member_id, renewal_on, _ in _issued(ledger, "non_renewal"):
        departure = Departure(date.fromisoformat(renewal_on), MemberStatus.LEFT)
        found.setdefault(member_id, []).append(departure)
    for member_id, _, issued_on in _issued(ledger, "exclusion"):
        found.setdefault(member_id, []).append(Departure(issued_on, MemberStatus.EXCLUDED))
    return {member_id: min(deps, key=lambda d: d.since) for member_id, deps in found.items()}


class Membership:
    """Answers "is this person a member on that day?" for every rule."""

    def __init__(
        self, coop: Cooperative, ledger: Ledger, params: CharterParams, as_of: date
    ) -> None:
        self.as_of = as_of
        self._coop = coop
        self._departures = departures(coop, ledger, params, as_of)

    def departure(self, member: Member) -> Departure | None:
        return self._departures.get(member.id)

    def status(self, member: Member) -> MemberStatus:
        """The member's status on ``as_of``: typed by the staff, or reached by a rule."""
        if member.status in OUT_STATUSES:
            return member.status
        departure = self.departure(member)
        if departure is not None and departure.since <= self.as_of:
            return departure.status
        return MemberStatus.ACTIVE

    def is_out(self, member: Member) -> bool:
        return self.status(member) in OUT_STATUSES

    def is_active_on(self, member: Member, day: date) -> bool:
        """Joined by ``day`` and not left by then (membership rules: never when out on as_of)."""
        if member.joined_on is None or member.joined_on > day or self.is_out(member):
            return False
        departure = self.departure(member)
        return departure is None or day < departure.since

    def active_members(self) -> list[Member]:
        """Members under the membership rules on ``as_of``."""
        return [m for m in self._coop.members.values() if self.is_active_on(m, self.as_of)]

    def status_changes(self) -> list[StatusChange]:
        """Members whose status a rule changed and whose recorded status does not say so yet."""
        changes = []
        for member in self._coop.members.values():
            departure = self.departure(member)
            if departure is None or departure.since > self.as_of:
                continue
            if member.status not in OUT_STATUSES:
                changes.append(StatusChange(member.id, departure.status, departure.since))
        return changes
