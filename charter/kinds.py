"""The kinds of document the charter issues, and the facts the run summary lists for each.

The ledger's ``kind`` field offers these kinds; ``services.summary`` writes these facts.
"""

from __future__ import annotations

#: The fields each kind lists beyond kind, key, member, files and delivery.
SUMMARY_FIELDS: dict[str, tuple[str, ...]] = {
    "payout_mid": ("mission", "rate", "gross_margin", "amount"),
    "payout_delivery": ("mission", "rate", "gross_margin", "total", "paid_before", "amount"),
    "contribution_statement": ("period", "gross_margin", "amount"),
    "resignation_ack": ("received_on", "in_trial", "effective_on"),
    "resignation_invalid": ("received_on",),
    "non_renewal": ("renewal_on", "notify_by", "reason"),
    "renewal": ("renewal_on",),
    "plenary_warning": ("unjustified_absences",),
    "exclusion": ("unjustified_absences",),
    "associate_reminder": ("deadline",),
    "sponsorship_end": ("sponsor", "mission"),
}
