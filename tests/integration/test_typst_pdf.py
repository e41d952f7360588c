"""Typst's PDFs from HTML, for real: the tree handed to Typst, French spaces, data printed as
typed, long reports over several pages, and the same bytes from the same letter."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from documents.typst_pdf import TypstPdf, french_spaces, html_tree


@pytest.fixture(scope="module")
def typst_pdf() -> TypstPdf:
    return TypstPdf()


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def page(body: str, title: str = "Objet") -> str:
    return (
        f'<html lang="fr"><head><title>{title}</title><meta name="author" content="Coop">'
        '<meta name="dcterms.created" content="2026-11-26"><style>p { color: red }</style>'
        f"</head><body>{body}</body></html>"
    )


def test_french_spaces_before_high_signs_and_inside_guillemets():
    assert french_spaces("Objet : a ; b ! c ? 12 % 5 € « titre »") == (
        "Objet\u00a0: a\u00a0; b\u00a0! c\u00a0? 12\u00a0% 5\u00a0€ «\u00a0titre\u00a0»"
    )
    assert french_spaces("http://x.org/a:b") == "http://x.org/a:b"  # no space, nothing added


def test_tree_collapses_white_space_and_skips_the_head():
    tree, meta = html_tree(page("<p>\n  Bonjour   <b>Ana</b> ,\n  merci.  </p>\n<p>Fin</p>"))
    assert meta == {"author": "Coop", "dcterms.created": "2026-11-26"}
    body = tree["kids"][0]["kids"][0]  # html > body
    first, second = body["kids"]
    assert first["tag"] == "p" and second["kids"] == ["Fin"]
    assert first["kids"][0] == "Bonjour "
    assert first["kids"][1] == {"tag": "b", "cls": [], "kids": ["Ana"]}
    assert first["kids"][2] == " , merci."


def test_words_joined_by_no_break_spaces_are_one_unit():
    tree, _ = html_tree(page("<p>le 30\u00a0octobre\u00a02026 soit 1\u202f234,56\u00a0€.</p>"))
    kids = tree["kids"][0]["kids"][0]["kids"][0]["kids"]
    assert kids == [
        "le ",
        {"tag": "nobr", "cls": [], "kids": ["30\u00a0octobre\u00a02026"]},
        " soit ",
        {"tag": "nobr", "cls": [], "kids": ["1\u202f234,56\u00a0€."]},
    ]


MARKUP = [
    "#set page(width: 1cm)",
    '#panic("x")',
    "*gras* _penché_ $x^2$ <label> @ref",
    "\\ \\\\ `code` [crochets] {accolades}",
    "// pas un commentaire /* ni ceci */",
    '#"chaîne" #(1 + 1) ~ -- --- = Titre',
    "&lt;b&gt; &amp; <i>html</i>",
]


@pytest.mark.parametrize("text", MARKUP)
def test_text_is_data_never_typst_markup(typst_pdf, text):
    from html import escape

    pdf = typst_pdf.pdf(page(f"<p>Nom : {escape(text)}</p>"), key="k")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    assert [round(float(v)) for v in reader.pages[0].mediabox] == [0, 0, 595, 842]
    printed = " ".join(text_of(pdf).replace("\u00a0", " ").split())
    assert f"Nom : {' '.join(text.split())}" in printed, printed


def test_same_html_same_bytes_and_the_date_is_the_letters(typst_pdf):
    html = page("<p>Bonjour</p>")
    one = typst_pdf.pdf(html, key="a")
    assert one == TypstPdf().pdf(html, key="a")
    info = PdfReader(io.BytesIO(one)).metadata
    assert info is not None and info.creation_date is not None
    assert info.creation_date.date() == date(2026, 11, 26)
    assert info.title == "Objet" and info.author == "Coop"
    assert one != typst_pdf.pdf(page("<p>Bonjour</p>", title="Autre"), key="a")


def test_a_long_table_runs_over_several_pages_with_every_row(typst_pdf):
    rows = "".join(f'<tr><td>Ligne {n}</td><td class="num">{n},00 €</td></tr>' for n in range(90))
    html = page(
        '<table class="figures"><thead><tr><th>Qui</th><th class="num">Montant</th></tr>'
        f"</thead><tbody>{rows}</tbody></table>"
    )
    pdf = typst_pdf.pdf(html, key="k")
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) >= 2
    text = text_of(pdf)
    assert all(f"Ligne {n}\n" in text or f"Ligne {n} " in text for n in range(90))
    assert all("Montant" in p.extract_text() for p in pages)  # the header on every page
    assert f"Page {len(pages)} / {len(pages)}" in pages[-1].extract_text()


def test_french_words_hyphenate_and_names_never(typst_pdf):
    words = "Anticonstitutionnellement extraordinairement incompréhensiblement "
    html = page(f"<p>{words * 12}</p>")
    hyphenated = text_of(typst_pdf.pdf(html, key="k"))
    assert "\xad\n" in hyphenated  # French hyphenation is on (a soft hyphen in the text)
    names = ["Anticonstitutionnellement", "extraordinairement", "incompréhensiblement"]
    whole = text_of(typst_pdf.pdf(html, key="k", names=names))
    assert "\xad" not in whole
    assert whole.split() == hyphenated.replace("\xad\n", "").split()
    assert "\xad" not in text_of(typst_pdf.pdf(html, key="k", hyphenate=False))  # reports


def test_no_hyphenation_in_a_table(typst_pdf):
    cell = "Anticonstitutionnellement extraordinairement incompréhensiblement " * 3
    html = page(
        f'<table class="figures"><tr><td>{cell}</td><td class="num">{cell}</td></tr></table>'
    )
    assert "\xad" not in text_of(typst_pdf.pdf(html, key="k"))


def test_empty_elements_make_a_page_not_an_error(typst_pdf):
    html = page(
        '<header class="letterhead"><p class="coop-name"></p></header><p class="reference">'
        '</p><p></p><ul></ul><table class="figures"></table><table class="figures"><tr></tr>'
        "</table><blockquote></blockquote><span></span>"
    )
    assert len(PdfReader(io.BytesIO(typst_pdf.pdf(html, key="k"))).pages) == 1
