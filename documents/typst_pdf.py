"""The PDF of a letter or report, typeset by Typst from the letter's own HTML.

The wording stays in the Jinja2 templates (``templates/<kind>.html``): their HTML is what the
outbox keeps. This module reads that HTML into a tree of plain data (tags, classes and text),
gives each block its role and each text its style (``documents.typst_layout``), and hands that
to one Typst layout (``templates/typst/letter.typ``) as JSON in ``sys.inputs``, which Typst
decodes and lays out. Names and texts from the records therefore reach Typst as
strings inside JSON, never as Typst markup: a name such as ``#set page(width: 1cm)`` or
``*a* _b_ $c$ <d> @e \\`` is printed as typed.

The fonts are Source Sans Pro from the pinned ``font-source-sans-pro`` package (SIL Open Font
Licence), with the machine's fonts ignored, so the same letter gives the same bytes on every
machine. French typography: hyphenation in French, and a no-break space before ``:``, ``;``,
``!``, ``?``, ``€``, ``%`` and ``»`` and after ``«`` wherever the text has an ordinary space
(Babel's figures already carry their narrow no-break spaces).

>>> pdf = TypstPdf().pdf(html, key="payout_mid:M1", created=date(2026, 11, 26))  # doctest: +SKIP
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import font_source_sans_pro
import typst

import templates
from documents import typst_layout

#: The Typst layout every letter and report shares.
LAYOUT = Path(templates.__file__).resolve().parent / "typst" / "letter.typ"
#: The folder of the fonts the PDFs use, and only those.
FONTS_DIR = Path(font_source_sans_pro.__file__).resolve().parent / "files"

#: Elements whose content is not printed.
_SKIPPED = frozenset({"head", "style", "script", "title"})
#: Elements that start a block of their own; the others flow in the line.
_BLOCKS = frozenset(
    {
        "html", "body", "header", "main", "section", "div", "p", "h1", "h2", "h3", "ul", "ol",
        "li", "blockquote", "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip
_VOID = frozenset({"br", "meta", "link", "img", "hr"})
#: HTML's white space, which collapses; the no-break spaces are not part of it.
_WHITE = re.compile(r"[ \t\n\r\f]+")
#: An ordinary space French replaces with a no-break one: before these signs, after "«".
_SPACE_BEFORE = re.compile(r" (?=[:;!?€%»])")
_SPACE_AFTER = re.compile(r"(?<=«) ")
#: Words joined by no-break spaces ("30\xa0octobre\xa02026", "1\u202f234,56\xa0€"): one
#: unit, never split, not even by hyphenation.
_JOINED = re.compile(r"[^ ]*[\u00a0\u202f][^ ]*")


def french_spaces(text: str) -> str:
    """No-break spaces where French typography wants them: "Objet : x" keeps "Objet :"
    together, "« titre »" keeps its guillemets on the title's lines."""
    return _SPACE_AFTER.sub("\u00a0", _SPACE_BEFORE.sub("\u00a0", text))


class _Tree(HTMLParser):
    """Reads HTML into nested dicts: ``{"tag", "cls", "kids"}``, text as strings."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root: dict[str, Any] = {"tag": "root", "cls": [], "kids": []}
        self.stack = [self.root]
        self.meta: dict[str, str] = {}
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "meta":
            if "name" in values:
                self.meta[values["name"]] = values.get("content", "")
            return
        if tag in _SKIPPED:
            self.skipping += 1
            return
        if self.skipping:
            return
        node: dict[str, Any] = {"tag": tag, "cls": values.get("class", "").split(), "kids": []}
        if "colspan" in values:
            node["colspan"] = int(values["colspan"])
        self.stack[-1]["kids"].append(node)
        if tag not in _VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED:
            self.skipping -= 1
            return
        if self.skipping or tag in _VOID:
            return
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth]["tag"] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.stack[-1]["kids"].append(data)


def _tidy(node: dict[str, Any], names: re.Pattern[str] | None) -> dict[str, Any]:
    """Collapse white space as a browser does: one space between words, none at the edges
    of a block, none between blocks; then French's no-break spaces, and ``names`` marked."""
    kids: list[Any] = []
    for kid in node["kids"]:
        if isinstance(kid, str):
            text = _WHITE.sub(" ", kid)
            if kids and isinstance(kids[-1], str):
                kids[-1] += text
            else:
                kids.append(text)
        else:
            kids.append(_tidy(kid, names))
    if node["tag"] in _BLOCKS or node["tag"] == "root":
        # A block's text loses its spaces at its edges and between its child blocks.
        kept: list[Any] = []
        for index, kid in enumerate(kids):
            if isinstance(kid, str):
                before = kids[index - 1] if index else None
                after = kids[index + 1] if index + 1 < len(kids) else None
                if before is None or (isinstance(before, dict) and before["tag"] in _BLOCKS):
                    kid = kid.lstrip(" ")
                if after is None or (isinstance(after, dict) and after["tag"] in _BLOCKS):
                    kid = kid.rstrip(" ")
                if not kid:
                    continue
            kept.append(kid)
        kids = kept
    node["kids"] = [
        piece for kid in kids for piece in (_named(kid, names) if isinstance(kid, str) else [kid])
    ]
    return node


def _named(text: str, names: re.Pattern[str] | None) -> list[Any]:
    """``text`` with French spaces, the names in it as ``{"tag": "name"}`` nodes (a proper
    name is never hyphenated), the rest split by ``_joined``."""
    text = french_spaces(text)
    if names is None:
        return _joined(text)
    pieces: list[Any] = []
    position = 0
    for found in names.finditer(text):
        pieces += _joined(text[position : found.start()])
        pieces.append({"tag": "name", "cls": [], "kids": [found.group()]})
        position = found.end()
    return pieces + _joined(text[position:])


def _joined(text: str) -> list[Any]:
    """``text``'s no-break groups as ``{"tag": "nobr"}`` nodes."""
    pieces: list[Any] = []
    position = 0
    for group in _JOINED.finditer(text):
        if group.start() > position:
            pieces.append(text[position : group.start()])
        pieces.append({"tag": "nobr", "cls": [], "kids": [group.group()]})
        position = group.end()
    if position < len(text):
        pieces.append(text[position:])
    return pieces


def html_tree(html: str, names: Iterable[str] = ()) -> tuple[dict[str, Any], dict[str, str]]:
    """The printed part of ``html`` as a tree of plain data, and its ``<meta>`` values.
    Wherever one of ``names`` (as printed: white space collapsed) occurs in a text, it becomes
    a ``name`` node, which Typst never hyphenates."""
    parser = _Tree()
    parser.feed(html)
    parser.close()
    printed = {french_spaces(" ".join(name.split())) for name in names}
    pattern = "|".join(re.escape(name) for name in sorted(printed, key=len, reverse=True) if name)
    return _tidy(parser.root, re.compile(pattern) if pattern else None), parser.meta


class TypstPdf:
    """Typesets HTML letters with Typst; build it once per process and reuse it."""

    def __init__(self) -> None:
        self._compiler = typst.Compiler(LAYOUT, font_paths=[FONTS_DIR], ignore_system_fonts=True)

    def pdf(
        self,
        html: str,
        *,
        key: str,
        created: date | None = None,
        names: Iterable[str] = (),
        hyphenate: bool = True,
    ) -> bytes:
        """The PDF of ``html``. Typst derives the file's identifier from its content, and its
        date is ``created`` (else the HTML's ``dcterms.created``: the letter's date), so the
        same letter always gives the same bytes. ``key`` (the ledger key) names the letter in
        an error. ``names`` (of people, missions, clients) are never hyphenated; with
        ``hyphenate`` false, no word is."""
        data = letter_data(html, created=created, names=names, hyphenate=hyphenate)
        try:
            pdf: bytes = self._compiler.compile(format="pdf", sys_inputs={"letter": data})
        except Exception as exc:  # Typst's errors name the layout's line, not the letter
            raise RuntimeError(f"PDF de {key} : {exc}") from exc
        return pdf


def letter_data(
    html: str, *, created: date | None = None, names: Iterable[str] = (), hyphenate: bool = True
) -> str:
    """What the layout reads (``sys.inputs.letter``), as JSON: the letter's blocks, each with
    its role (``documents.typst_layout``), the footer's text, the title, author and date."""
    tree, meta = html_tree(html, names)
    if created is None and meta.get("dcterms.created"):
        created = date.fromisoformat(meta["dcterms.created"])
    data = {
        "tree": typst_layout.layout(tree),
        "footer": typst_layout.footer(tree),
        "title": _title(html),
        "author": meta.get("author", ""),
        "created": (created or date(1980, 1, 1)).isoformat(),
        "hyphenate": hyphenate,
    }
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


_TITLE = re.compile(r"<title>(.*?)</title>", re.DOTALL)


def _title(html: str) -> str:
    """The document's title (``<title>``), unescaped, on one line."""
    import html as html_module

    found = _TITLE.search(html)
    return " ".join(html_module.unescape(found.group(1)).split()) if found else ""
