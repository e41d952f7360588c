"""What applying a rule finds: documents that fall due, alerts and data errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from charter.membership import Membership
from charter.model import Alert, Cooperative, Document, Ledger, RuleError
from charter.params import CharterParams


@dataclass(frozen=True)
class Situation:
    """Everything a rule may look at: the records, the ledger, the day and the parameters."""

    coop: Cooperative
    ledger: Ledger
    as_of: date
    params: CharterParams
    membership: Membership
    go_live: date | None = None

    def is_historical(self, trigger_on: date | None) -> bool:
        """A document triggered before the go-live date is recorded, not issued (§10)."""
        return self.go_live is not None and trigger_on is not None and trigger_on < self.go_live

    def is_new(self, key: str) -> bool:
        """A document is issued at most once: a key already in the ledger is never due again."""
        return key not in self.ledger


@dataclass
class Findings:
    documents: list[Document] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)

    def add(self, other: Findings) -> Findings:
        self.documents += other.documents
        self.alerts += other.alerts
        self.errors += other.errors
        return self
