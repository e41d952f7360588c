"""Every letter, rendered for real: Jinja2 templates, Typst PDF, read back with pypdf.

One realistic document per kind (DOCUMENTS.md), built by hand with the facts the charter rules
produce, then the email message that carries it, parsed back.
"""

from __future__ import annotations

import email
import html as html_lib
import io
import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal
from email.policy import default

import pytest
from jinja2 import TemplateNotFound, UndefinedError
from pypdf import PdfReader

from cae.config import CooperativeInfo
from cae.formatting import money
from cae.rendering import TEMPLATES_DIR, RenderedDocument, Renderer
from charter.model import Channel, Document, Involvement, Member, Mission, Stage
from charter.params import CharterParams
from integrations.mail import build_message

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


def squash(text: str) -> str:
    """Collapse every run of whitespace, no-break spaces included, to one space."""
    return " ".join(text.split())


def visible(html: str) -> str:
    """The text of an HTML page as a reader sees it: no tags, no head, entities decoded."""
    body = html.split("<body", 1)[1].split(">", 1)[1]
    inline = re.sub(r"</?(?:span|a)\b[^>]*>", "", body)
    return squash(html_lib.unescape(re.sub(r"<[^>]+>", " ", inline)))


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return squash(" ".join(page.extract_text() for page in reader.pages))


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(COOP, CharterParams())


def render(renderer: Renderer, case: Case, **changes) -> RenderedDocument:
    return renderer.render(
        replace(case.doc, **changes) if changes else case.doc,
        member=case.member,
        mission=case.mission,
        sponsor=case.sponsor,
        as_of=AS_OF,
    )


@pytest.fixture(scope="module")
def rendered(renderer: Renderer) -> dict[str, RenderedDocument]:
    return {kind: render(renderer, case) for kind, case in CASES.items()}


def with_facts(kind: str, **facts) -> Case:
    case = CASES[kind]
    return replace(case, doc=replace(case.doc, facts={**case.doc.facts, **facts}))


def test_every_document_kind_has_a_template_and_a_case():
    assert sorted(CASES) == sorted(KINDS)
    for kind in KINDS:
        assert (TEMPLATES_DIR / f"{kind}.html").is_file()


@pytest.mark.parametrize("kind", KINDS)
def test_subject_is_the_documented_one(rendered, kind):
    assert rendered[kind].subject == CASES[kind].subject


@pytest.mark.parametrize("kind", KINDS)
def test_letter_states_its_facts(rendered, kind):
    text = visible(rendered[kind].html)
    for fact in CASES[kind].says:
        assert squash(fact) in text


@pytest.mark.parametrize("kind", KINDS)
def test_letter_cites_its_charter_article(rendered, kind):
    assert f"article {CASES[kind].article} de la charte" in visible(rendered[kind].html)


@pytest.mark.parametrize("kind", KINDS)
def test_letter_has_letterhead_top_block_and_signature(rendered, kind):
    text = visible(rendered[kind].html)
    assert text.startswith(
        "Coopérative No-Code 12 rue des Coopérateurs – 75011 Paris contact@cae-nocode.fr "
        "SCOP SA à capital variable"
    )
    assert (
        "Camille Martin 8 avenue de la République 69003 Lyon "
        f"Paris, le 26 novembre 2026 Réf. : {CASES[kind].doc.key}"
    ) in text
    assert f"Objet : {CASES[kind].subject} Bonjour Camille Martin," in text
    assert "Bien cordialement, Claire Dubois Gérante Coopérative No-Code" in text


@pytest.mark.parametrize("kind", KINDS)
def test_registered_mention_appears_above_the_subject_only_on_registered_letters(rendered, kind):
    text = visible(rendered[kind].html)
    mention = "Lettre recommandée avec accusé de réception Objet :"
    assert (mention in text) is CASES[kind].doc.registered


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_text_has_subject_date_reference_and_figures(rendered, kind):
    text = pdf_text(rendered[kind].pdf)
    assert f"Objet : {CASES[kind].subject}" in text
    assert "Paris, le 26 novembre 2026" in text
    assert CASES[kind].doc.key in text
    for fact in CASES[kind].pdf_says:
        assert squash(fact) in text


@pytest.mark.parametrize("kind", KINDS)
def test_letter_fits_on_one_page(rendered, kind):
    assert len(PdfReader(io.BytesIO(rendered[kind].pdf)).pages) == 1


def test_amounts_are_written_with_babel_separators(rendered):
    assert money(Decimal("10000.00")) in rendered["payout_mid"].html
    assert "10\u202f000,00\u00a0€" in rendered["payout_mid"].html
    assert "15\u00a0%" in rendered["payout_mid"].html


def test_negative_delivery_balance_is_a_regularisation(renderer):
    case = with_facts(
        "payout_delivery",
        direct_costs=Decimal("7000.00"),
        gross_margin=Decimal("5000.00"),
        total=Decimal("750.00"),
        paid_before=Decimal("1500.00"),
        amount=Decimal("-750.00"),
    )
    result = render(renderer, case)
    text = visible(result.html)
    assert "Montant à régulariser" in text
    assert "montant à régulariser, c'est-à-dire la somme perçue en trop, est de 750,00 €" in text
    assert "-750,00 €" in text
    assert "déduit de vos prochaines commissions" in text
    assert "demandé en remboursement" in text
    assert "L'équipe d'appui va prendre contact avec vous" in text
    assert "régulariser" in pdf_text(result.pdf)


def test_delivery_without_mid_notice_pays_the_whole_commission(renderer):
    case = with_facts("payout_delivery", paid_before=Decimal("0"), amount=Decimal("1650.00"))
    text = visible(render(renderer, case).html)
    assert "Aucun versement n'ayant eu lieu à mi-parcours" in text
    assert "Versement à la livraison 1 650,00 €" in text
    assert "régulariser" not in text


def test_delivery_after_a_half_settled_before_go_live_says_so(renderer):
    case = with_facts("payout_delivery", mid_settled_before_go_live=True)
    result = render(renderer, case)
    text = visible(result.html)
    paid = squash(money(case.doc.facts["paid_before"]))
    assert (
        f"Le versement de mi-parcours, soit {paid}, vous a été réglé avant la mise en service "
        "de notre outil de gestion des commissions" in text
    )
    assert "réglé avant la mise en service de l'outil" in text
    assert "Vous avez déjà reçu" not in text
    assert "mise en service" in squash(pdf_text(result.pdf))
    assert "mise en service" not in visible(render(renderer, with_facts("payout_delivery")).html)


def test_delivery_balance_of_zero_says_nothing_remains(renderer):
    case = with_facts(
        "payout_delivery",
        total=Decimal("750.00"),
        paid_before=Decimal("750.00"),
        amount=Decimal("0.00"),
    )
    text = visible(render(renderer, case).html)
    assert "aucun solde ne reste à verser" in text
    assert "régulariser" not in text


def test_positive_delivery_balance_is_not_a_regularisation(rendered):
    assert "régulariser" not in visible(rendered["payout_delivery"].html)


@pytest.mark.parametrize("margin", [Decimal("0.00"), Decimal("-120.00")])
def test_month_without_margin_states_no_activity_no_contribution(renderer, margin):
    case = with_facts("contribution_statement", gross_margin=margin, amount=Decimal("0.00"))
    result = render(renderer, case)
    text = visible(result.html)
    assert "pas d'activité, pas de contribution" in text
    assert "aucune cotisation fixe" in text
    assert f"Contribution (10 % de la marge brute) {squash(money(Decimal(0)))}" in text
    assert squash(money(margin)) in text
    assert "pas d'activité, pas de contribution" in pdf_text(result.pdf)


def test_month_with_margin_does_not_claim_no_activity(rendered):
    assert "pas d'activité" not in visible(rendered["contribution_statement"].html)


def test_renewal_at_the_end_of_trial_says_the_trial_is_over(renderer):
    result = render(renderer, with_facts("renewal", trial_end=True))
    text = visible(result.html)
    assert result.subject == "Fin de votre période d'essai"
    assert "vous n'êtes plus en période d'essai" in text
    assert "votre adhésion se poursuit" in text
    assert "Objet : Fin de votre période d'essai" in pdf_text(result.pdf)


def test_resignation_in_trial_states_one_week_notice(renderer):
    case = with_facts(
        "resignation_ack",
        channel=Channel.EMAIL,
        in_trial=True,
        effective_on=date(2026, 11, 27),
        notice_days=7,
        notice_months=None,
        received_on=date(2026, 11, 20),
    )
    text = visible(render(renderer, case).html)
    assert "par courriel" in text
    assert "Vous êtes à cette date en période d'essai" in text
    assert "préavis d'une semaine" in text
    assert "Dernier jour d'adhésion 27 novembre 2026" in text


def test_non_renewal_at_the_end_of_trial_states_one_week_delay(renderer):
    case = with_facts(
        "non_renewal",
        renewal_on=date(2026, 12, 1),
        notify_by=date(2026, 11, 24),
        trial_end=True,
        notice_days=7,
        notice_months=None,
        last_day=date(2026, 11, 30),
    )
    text = visible(render(renderer, case).html)
    assert "le 1er décembre 2026, date de fin de votre période d'essai" in text
    assert "au moins une semaine avant la date de renouvellement" in text
    assert "Dernier jour d'adhésion 30 novembre 2026" in text


def test_member_name_is_escaped_in_html(renderer):
    intruder = replace(CAMILLE, name="<script>alert(1)</script>")
    case = replace(CASES["renewal"], member=intruder)
    result = render(renderer, case)
    assert "<script>" not in result.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in result.html
    assert "<script>" not in result.email_html
    assert "&lt;script&gt;" in result.email_html
    assert "Bonjour <script>alert(1)</script>," in result.email_text


def test_missing_fact_is_an_error_not_a_blank(renderer):
    case = CASES["payout_mid"]
    facts = {k: v for k, v in case.doc.facts.items() if k != "amount"}
    with pytest.raises(UndefinedError):
        render(renderer, replace(case, doc=replace(case.doc, facts=facts)))


def test_unknown_kind_has_no_template(renderer):
    with pytest.raises(TemplateNotFound):
        render(renderer, replace(CASES["renewal"], doc=replace(CASES["renewal"].doc, kind="x")))


def test_same_letter_gives_the_same_pdf_bytes(renderer, rendered):
    assert render(renderer, CASES["payout_mid"]).pdf == rendered["payout_mid"].pdf
    # A new renderer (as in another process or on another machine) gives the same file too.
    fresh = Renderer(COOP, CharterParams())
    assert render(fresh, CASES["payout_mid"]).pdf == rendered["payout_mid"].pdf


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_uses_only_the_projects_font(rendered, kind):
    """Source Sans Pro from the pinned package, whatever fonts the machine has."""
    reader = PdfReader(io.BytesIO(rendered[kind].pdf))
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"]["/Font"].values()
    }
    assert fonts and all("SourceSansPro-" in name for name in fonts), fonts
    assert reader.trailer["/Root"]["/Lang"] == "fr-FR"


TYPST_MARKUP = '#set page(width: 1cm) *gras* _x_ $y$ <z> @w \\ `c` [a] #"s" // /* ~ -- = h'


def test_member_name_with_typst_markup_is_printed_as_typed(renderer):
    intruder = replace(CAMILLE, name=TYPST_MARKUP)
    case = replace(CASES["payout_delivery"], member=intruder)
    result = render(renderer, case)
    reader = PdfReader(io.BytesIO(result.pdf))
    assert len(reader.pages) == 1
    assert [round(float(v)) for v in reader.pages[0].mediabox] == [0, 0, 595, 842]  # still A4
    text = pdf_text(result.pdf).replace("\u00a0", " ")
    assert f"Bonjour {TYPST_MARKUP}," in text


def test_email_bodies_name_the_letter_and_whom_to_contact(rendered):
    result = rendered["exclusion"]
    for body in (result.email_text, visible(result.email_html)):
        text = squash(body)
        assert "Bonjour Camille Martin," in text
        assert "ci-joint, au format PDF" in text
        assert "Notification d'exclusion de la coopérative" in text
        assert "lettre recommandée avec accusé de réception" in text
        assert "appui@cae-nocode.fr" in text


def test_email_to_the_godchild_mentions_the_sponsor_in_copy(rendered):
    assert "Sacha Lefèvre est en copie de ce message." in rendered["sponsorship_end"].email_text


def message(result: RenderedDocument, key: str = "renewal:recCamille:2027-03-01"):
    return build_message(
        result,
        key=key,
        sender="Coopérative No-Code <contact@cae-nocode.fr>",
        to=["camille.martin@example.org"],
        cc=["appui@cae-nocode.fr"],
        attachment_name="Renouvellement de votre adhésion – Camille Martin.pdf",
        date=datetime(2026, 11, 26, 9, 30),
    )


def test_email_parses_back_with_headers_and_bodies(rendered):
    parsed = email.message_from_bytes(message(rendered["renewal"]).as_bytes(), policy=default)
    assert parsed["Subject"] == "Renouvellement de votre adhésion"
    assert parsed["From"] == "Coopérative No-Code <contact@cae-nocode.fr>"
    assert parsed["To"] == "camille.martin@example.org"
    assert parsed["Cc"] == "appui@cae-nocode.fr"
    assert parsed["Date"] == "Thu, 26 Nov 2026 09:30:00 +0100"
    assert parsed["X-CAE-Key"] == "renewal:recCamille:2027-03-01"
    body = parsed.get_body(preferencelist=("plain",))
    assert body.get_content() == rendered["renewal"].email_text
    html = parsed.get_body(preferencelist=("html",))
    assert html.get_content() == rendered["renewal"].email_html


def test_email_attaches_the_pdf_with_its_utf8_name(rendered):
    raw = message(rendered["renewal"]).as_bytes()
    assert b"filename*" in raw  # RFC 2231, not a raw non-ASCII name
    parsed = email.message_from_bytes(raw, policy=default)
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "Renouvellement de votre adhésion – Camille Martin.pdf"
    assert attachment.get_content() == rendered["renewal"].pdf


def test_message_id_is_stable_for_a_key_and_differs_between_keys(rendered):
    first = message(rendered["renewal"])["Message-ID"]
    assert message(rendered["renewal"])["Message-ID"] == first
    assert re.fullmatch(r"<[0-9a-f]{32}@cae-nocode\.fr>", first)
    assert message(rendered["renewal"], key="renewal:recCamille:2028-03-01")["Message-ID"] != first


def test_same_letter_gives_the_same_message_bytes(rendered):
    assert message(rendered["renewal"]).as_bytes() == message(rendered["renewal"]).as_bytes()


def test_message_id_falls_back_to_a_reserved_domain_without_a_sender_domain(rendered):
    built = build_message(
        rendered["renewal"],
        key="renewal:recCamille:2027-03-01",
        sender="Coopérative",
        to=["camille.martin@example.org"],
        cc=[],
        attachment_name="lettre.pdf",
        date=datetime(2026, 11, 26, 9, 30),
    )
    assert built["Message-ID"].endswith("@cae.invalid>")
    assert built["Cc"] is None
