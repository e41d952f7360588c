"""One realistic document of every kind, with what its letter must say, for the rendering tests.

Each ``Case`` is built by hand with the facts the charter rules produce: the document, its
subject, its charter article, and the phrases its HTML and its PDF must hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from charter.model import Channel, Document, Involvement, Member, Mission, Stage
from settings.config import CooperativeInfo

AS_OF = date(2026, 11, 26)

COOP = CooperativeInfo(
    name="Coopérative No-Code",
    address="12 rue des Coopérateurs\n75011 Paris",
    city="Paris",
    legal="SCOP SA à capital variable – SIRET 123 456 789 00012 – RCS Paris B 123 456 789",
    signatory_name="Claire Dubois",
    signatory_role="Gérante",
    email="contact@cae-nocode.fr",
    staff_email="appui@cae-nocode.fr",
)

CAMILLE = Member(
    id="recCamille",
    name="Camille Martin",
    joined_on=date(2025, 3, 1),
    email="camille.martin@example.org",
    address="8 avenue de la République\n69003 Lyon",
)
SACHA = Member(id="recSacha", name="Sacha Lefèvre", joined_on=date(2023, 1, 9))
BOOKING = Mission(
    id="recBooking",
    title="Application de réservation",
    stage=Stage.MIDWAY,
    client="Boulangerie Durand",
    bearer_id=CAMILLE.id,
    bearer_involvement=Involvement.SPECIFICATION,
    revenue=Decimal("12000.00"),
    direct_costs=Decimal("2000.00"),
    mid_on=date(2026, 11, 20),
)

KINDS = [
    "payout_mid",
    "payout_delivery",
    "contribution_statement",
    "resignation_ack",
    "resignation_invalid",
    "non_renewal",
    "renewal",
    "plenary_warning",
    "exclusion",
    "associate_reminder",
    "sponsorship_end",
]


@dataclass(frozen=True)
class Case:
    """A document, what its letter must say in HTML and in the PDF, and its charter article."""

    doc: Document
    subject: str
    article: int
    says: list[str]
    pdf_says: list[str]
    mission: Mission | None = None
    sponsor: Member | None = None
    member: Member = field(default=CAMILLE)


def _doc(kind: str, key: str, facts: dict, *, registered: bool = False) -> Document:
    return Document(kind, key, CAMILLE.id, facts, registered=registered)


CASES = {
    "payout_mid": Case(
        _doc(
            "payout_mid",
            "payout_mid:recBooking",
            {
                "rate": Decimal("0.15"),
                "involvement": Involvement.SPECIFICATION,
                "revenue": Decimal("12000.00"),
                "direct_costs": Decimal("2000.00"),
                "gross_margin": Decimal("10000.00"),
                "total": Decimal("1500.00"),
                "amount": Decimal("750.00"),
                "remaining": Decimal("750.00"),
                "mid_share": Decimal("0.50"),
                "mid_on": date(2026, 11, 20),
            },
        ),
        "Avis de versement : commission de porteur·euse de projet (mi-parcours)",
        4,
        says=[
            "Application de réservation",
            "Boulangerie Durand",
            "Cahier des charges",
            "15 % de la marge brute de 10 000,00 €, soit 1 500,00 €, dont 50 % à mi-parcours",
            "Chiffre d'affaires hors taxes de la mission 12 000,00 €",
            "Coûts directs 2 000,00 €",
            "Versement à mi-parcours 50 % de la commission totale 750,00 €",
            "Reste à verser à la livraison 750,00 €",
            "20 novembre 2026",
        ],
        pdf_says=["750,00 €", "10 000,00 €", "Application de réservation"],
        mission=BOOKING,
    ),
    "payout_delivery": Case(
        _doc(
            "payout_delivery",
            "payout_delivery:recBooking",
            {
                "rate": Decimal("0.15"),
                "involvement": Involvement.SPECIFICATION,
                "revenue": Decimal("12000.00"),
                "direct_costs": Decimal("1000.00"),
                "gross_margin": Decimal("11000.00"),
                "total": Decimal("1650.00"),
                "paid_before": Decimal("750.00"),
                "amount": Decimal("900.00"),
                "delivered_on": date(2026, 11, 24),
            },
        ),
        "Avis de versement : commission de porteur·euse de projet (livraison)",
        4,
        says=[
            "a été livrée le 24 novembre 2026",
            "Marge brute définitive 11 000,00 €",
            "Commission totale 15 % de la marge brute définitive",
            "1 650,00 €",
            "Déjà versé à mi-parcours 750,00 €",
            "Solde versé à la livraison",
            "900,00 €",
        ],
        pdf_says=["900,00 €", "1 650,00 €", "24 novembre 2026"],
        mission=replace(BOOKING, stage=Stage.DELIVERED, delivered_on=date(2026, 11, 24)),
    ),
    "contribution_statement": Case(
        _doc(
            "contribution_statement",
            "contribution_statement:recCamille:2026-10",
            {
                "period": "2026-10",
                "month": date(2026, 10, 1),
                "invoices": [
                    {
                        "number": "F-2026-041",
                        "issued_on": date(2026, 10, 5),
                        "amount": Decimal("2500.00"),
                        "direct_costs": Decimal("300.00"),
                        "margin": Decimal("2200.00"),
                    },
                    {
                        "number": "F-2026-047",
                        "issued_on": date(2026, 10, 28),
                        "amount": Decimal("1200.00"),
                        "direct_costs": Decimal("0"),
                        "margin": Decimal("1200.00"),
                    },
                ],
                "gross_margin": Decimal("3400.00"),
                "amount": Decimal("340.00"),
                "rate": Decimal("0.10"),
            },
        ),
        "Relevé de contribution à la coopérative : octobre 2026",
        3,
        says=[
            "F-2026-041 5 octobre 2026 2 500,00 € 300,00 € 2 200,00 €",
            "F-2026-047 28 octobre 2026 1 200,00 € 0,00 € 1 200,00 €",
            "Marge brute d'octobre 2026 3 400,00 €",
            "Contribution (10 % de la marge brute) 340,00 €",
            "10 % de la marge brute de 3 400,00 €, soit 340,00 €",
        ],
        pdf_says=["F-2026-041", "340,00 €", "3 400,00 €", "octobre 2026"],
    ),
    "resignation_ack": Case(
        _doc(
            "resignation_ack",
            "resignation_ack:recCamille:2026-11-20",
            {
                "received_on": date(2026, 11, 20),
                "channel": Channel.REGISTERED_LETTER,
                "in_trial": False,
                "effective_on": date(2026, 12, 20),
                "notice_days": None,
                "notice_months": 1,
            },
            registered=True,
        ),
        "Accusé de réception de votre démission",
        9,
        says=[
            "reçue le 20 novembre 2026 par lettre recommandée avec accusé de réception",
            "Votre période d'essai étant terminée",
            "préavis d'un mois",
            "Période d'essai terminée",
            "Dernier jour d'adhésion 20 décembre 2026",
        ],
        pdf_says=["20 novembre 2026", "20 décembre 2026", "un mois"],
    ),
    "resignation_invalid": Case(
        _doc(
            "resignation_invalid",
            "resignation_invalid:recCamille:2026-11-18",
            {"received_on": date(2026, 11, 18), "channel": Channel.EMAIL},
            registered=True,
        ),
        "Votre démission : envoi en recommandé nécessaire",
        9,
        says=[
            "le 18 novembre 2026 par courriel",
            "débute à la réception d'un courrier envoyé en lettre recommandée avec accusé de "
            "réception",
            "aucun préavis n'a donc commencé à courir",
            "12 rue des Coopérateurs, 75011 Paris",
        ],
        pdf_says=["18 novembre 2026", "aucun préavis"],
    ),
    "non_renewal": Case(
        _doc(
            "non_renewal",
            "non_renewal:recCamille:2027-03-01",
            {
                "renewal_on": date(2027, 3, 1),
                "notify_by": date(2027, 1, 1),
                "reason": "Absence de participation aux ateliers techniques (article 11).",
                "trial_end": False,
                "notice_days": None,
                "notice_months": 2,
                "last_day": date(2027, 2, 28),
            },
            registered=True,
        ),
        "Notification de non-renouvellement de votre contrat d'adhésion",
        10,
        says=[
            "le 1er mars 2027, date anniversaire de votre adhésion",
            "Absence de participation aux ateliers techniques (article 11).",
            "au moins 2 mois avant la date de renouvellement",
            "au plus tard le 1er janvier 2027",
            "respecte ce délai",
            "Dernier jour d'adhésion 28 février 2027",
        ],
        pdf_says=["1er mars 2027", "28 février 2027", "ateliers techniques"],
    ),
    "renewal": Case(
        _doc(
            "renewal",
            "renewal:recCamille:2027-03-01",
            {
                "renewal_on": date(2027, 3, 1),
                "trial_end": False,
            },
        ),
        "Renouvellement de votre adhésion",
        10,
        says=["renouvellement de votre adhésion", "le 1er mars 2027", "se poursuit"],
        pdf_says=["1er mars 2027"],
    ),
    "plenary_warning": Case(
        _doc(
            "plenary_warning",
            "plenary_warning:recCamille",
            {
                "unjustified_absences": 2,
                "absence_dates": [date(2026, 9, 14), date(2026, 11, 9)],
                "exclusion_at": 3,
            },
        ),
        "Absences aux plénières : rappel",
        7,
        says=[
            "2 absences injustifiées",
            "plénière du 14 septembre 2026",
            "plénière du 9 novembre 2026",
            "à partir de 3 absences injustifiées",
            "Une nouvelle absence injustifiée entraînerait donc votre exclusion",
            "Comment justifier une absence",
        ],
        pdf_says=["14 septembre 2026", "9 novembre 2026"],
    ),
    "exclusion": Case(
        _doc(
            "exclusion",
            "exclusion:recCamille",
            {
                "unjustified_absences": 3,
                "absence_dates": [date(2026, 9, 14), date(2026, 10, 12), date(2026, 11, 9)],
                "excluded_on": AS_OF,
            },
            registered=True,
        ),
        "Notification d'exclusion de la coopérative",
        7,
        says=[
            "exclusion de la coopérative, à compter du 26 novembre 2026",
            "plénière du 14 septembre 2026",
            "plénière du 12 octobre 2026",
            "plénière du 9 novembre 2026",
            "Cette exclusion est définitive",
            "collectif et sur ses outils",
        ],
        pdf_says=["12 octobre 2026", "définitive"],
    ),
    "associate_reminder": Case(
        _doc(
            "associate_reminder",
            "associate_reminder:recCamille:6",
            {"deadline": date(2027, 5, 3), "months_before": 6, "joined_on": date(2024, 5, 3)},
        ),
        "Votre entrée au sociétariat",
        2,
        says=[
            "rejoint la coopérative le 3 mai 2024",
            "31 juillet 2014",
            "3 ans",
            "fixée au 3 mai 2027",
            "Être associé·e",
            "Claire Dubois (Gérante) ou l'équipe d'appui à l'adresse appui@cae-nocode.fr",
        ],
        pdf_says=["3 mai 2027", "sociétaire"],
    ),
    "sponsorship_end": Case(
        Document(
            "sponsorship_end",
            "sponsorship_end:recCamille",
            CAMILLE.id,
            {"mission": "Site vitrine de l'Atelier Vélo", "delivered_on": date(2026, 11, 16)},
            sponsor_id=SACHA.id,
        ),
        "Fin de votre parrainage",
        16,
        says=[
            "Site vitrine de l'Atelier Vélo",
            "livrée le 16 novembre 2026",
            "Votre parrainage par Sacha Lefèvre s'achève",
            "remercier chaleureusement Sacha Lefèvre",
            "Copie : Sacha Lefèvre",
        ],
        pdf_says=["Sacha Lefèvre", "16 novembre 2026"],
        sponsor=SACHA,
    ),
}
