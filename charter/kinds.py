"""The kinds of document and alert the charter issues, their names in French, and the facts
the run summary lists for each document.

The ledger's ``kind`` field offers the document kinds; ``services.summary`` writes these facts;
the run's report, the monthly report and the staff guide name each kind by its French label.
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

#: Each document kind as the staff name it.
DOCUMENT_LABELS: dict[str, str] = {
    "payout_mid": "Avis de versement (mi-parcours)",
    "payout_delivery": "Avis de versement (livraison)",
    "contribution_statement": "Relevé de contribution",
    "resignation_ack": "Accusé de réception de démission",
    "resignation_invalid": "Démission à renvoyer en recommandé",
    "non_renewal": "Non-renouvellement",
    "renewal": "Renouvellement",
    "plenary_warning": "Rappel d'absences aux plénières",
    "exclusion": "Exclusion",
    "associate_reminder": "Rappel sociétariat",
    "sponsorship_end": "Fin de parrainage",
}

#: Each alert kind in words, for the staff (the code stays beside it, small, in the reports).
ALERT_LABELS: dict[str, str] = {
    "payout_regularisation": "Trop-perçu à régulariser",
    "mission_cancelled_after_payout": "Mission annulée après un versement",
    "mission_missing_roles": "Mission sans chef·fe de projet ou lead dev",
    "non_renewal_too_late": "Non-renouvellement notifié trop tard",
    "associate_deadline_passed": "Sociétariat en retard",
    "sponsor_not_eligible": "Parrain ou marraine non éligible",
    "sponsor_over_capacity": "Trop de filleul·es",
    "piloted_mission_not_led_by_sponsor": "Mission pilotée sans son parrain ou sa marraine",
    "volunteering_shortfall": "Bénévolat insuffisant",
    "workshop_missing": "Atelier ou veille manquant",
}


def document_label(kind: str) -> str:
    """A document kind in French; an unknown kind (an old ledger row) reads as its code."""
    return DOCUMENT_LABELS.get(kind, kind)


def alert_label(kind: str) -> str:
    """An alert kind in French; an unknown kind reads as its code."""
    return ALERT_LABELS.get(kind, kind)
