"""A targeted run applies only the rules that concern one mission or one member."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from charter.model import Alert, Document, Evaluation, RuleError


class ScopeKind(StrEnum):
    MISSION = "mission"
    MEMBER = "member"


@dataclass(frozen=True)
class Scope:
    """One record, by its id in the source: what a webhook says changed.

    >>> Scope(ScopeKind.MISSION, "recA").keeps_document(payout_notice)   # doctest: +SKIP
    True
    """

    kind: ScopeKind
    record_id: str

    def keeps_document(self, doc: Document) -> bool:
        if self.kind is ScopeKind.MISSION:
            return doc.mission_id == self.record_id
        return self.record_id in (doc.member_id, doc.sponsor_id)

    def keeps_alert(self, alert: Alert) -> bool:
        if self.kind is ScopeKind.MISSION:
            return alert.mission_id == self.record_id
        return alert.member_id == self.record_id

    def keeps_error(self, error: RuleError) -> bool:
        return error.record_id == self.record_id

    def narrow(self, evaluation: Evaluation) -> Evaluation:
        """Only what concerns the record; status changes only for a member."""
        return Evaluation(
            documents=[d for d in evaluation.documents if self.keeps_document(d)],
            alerts=[a for a in evaluation.alerts if self.keeps_alert(a)],
            errors=[e for e in evaluation.errors if self.keeps_error(e)],
            status_changes=[c for c in evaluation.status_changes if c.member_id == self.record_id],
            skipped_rules=[],
        )
