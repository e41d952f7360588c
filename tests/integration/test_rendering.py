"""Every letter, rendered for real: Jinja2 templates, Typst PDF, read back with pypdf.

One realistic document per kind (docs/documents.md), built by hand with the facts the charter rules
produce, then the email message that carries it, parsed back.
"""

from __future__ import annotations

import email
import html as html_lib
import io
import re
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from email.policy import default

import pytest
from jinja2 import TemplateNotFound, UndefinedError
from pypdf import PdfReader

from charter.french import money
from charter.model import Channel
from charter.params import CharterParams
from documents.mail import POLICY, build_message
from documents.rendering import TEMPLATES_DIR, RenderedDocument, Renderer
from tests.support.letter_cases import AS_OF, CAMILLE, CASES, COOP, KINDS, Case

ONE_WEEK_NOTICE = {"notice_days": 7, "notice_months": None}  # in the trial period


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
        **ONE_WEEK_NOTICE,
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
        **ONE_WEEK_NOTICE,
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


def test_email_bytes_are_the_same_whatever_was_built_before(rendered):
    """The policy's registry shares headers between messages: sharing changes no byte."""
    first = message(rendered["renewal"]).as_bytes()
    hits = POLICY.header_factory._header.cache_info().hits
    for kind, result in rendered.items():
        message(result, key=f"{kind}:other:2027-01-01").as_bytes()
    assert POLICY.header_factory._header.cache_info().hits > hits  # shared, not parsed again
    assert message(rendered["renewal"]).as_bytes() == first
    assert message(rendered["renewal"]).as_bytes(policy=default) == first


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
