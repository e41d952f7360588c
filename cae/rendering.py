"""Turn a document that fell due into the letter a member receives: HTML, PDF and email bodies.

The wording lives in ``templates/`` (one ``<kind>.html`` per document kind, sharing
``base.html``; ``email.txt`` and ``email.html`` for the message that carries the PDF). This
module only assembles the context the templates read and runs Jinja2 and WeasyPrint.

>>> renderer = Renderer(CooperativeInfo(), CharterParams())
>>> rendered = renderer.render(doc, member=member, mission=None, sponsor=None,
...                            as_of=date(2026, 11, 26))          # doctest: +SKIP
>>> rendered.subject                                               # doctest: +SKIP
'Accusé de réception de votre démission'
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from weasyprint import HTML

import templates
from cae.config import CooperativeInfo
from cae.formatting import FILTERS
from charter.model import Document, Member, Mission
from charter.params import CharterParams

#: The folder of the templates, wherever the ``templates`` package is installed.
TEMPLATES_DIR = Path(templates.__file__).resolve().parent


@dataclass(frozen=True)
class RenderedDocument:
    subject: str
    html: str
    pdf: bytes
    email_text: str
    email_html: str


class Renderer:
    """Renders documents for one cooperative; build it once per run and reuse it."""

    def __init__(self, coop: CooperativeInfo, params: CharterParams) -> None:
        self.coop = coop
        self.params = params
        self.env = Environment(
            loader=FileSystemLoader(TEMPLATES_DIR),
            # A member's name or a mission's title is data: escaped in HTML, as is in text.
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            keep_trailing_newline=True,
        )
        self.env.filters.update(FILTERS)

    def render(
        self,
        doc: Document,
        *,
        member: Member,
        mission: Mission | None,
        sponsor: Member | None,
        as_of: date,
    ) -> RenderedDocument:
        """Render ``doc`` addressed to ``member``, dated ``as_of``.

        Raises ``jinja2.TemplateNotFound`` for a kind with no template, and
        ``jinja2.UndefinedError`` when ``doc.facts`` lacks a figure the letter states.
        """
        context: dict[str, Any] = {
            "coop": self.coop,
            "params": self.params,
            "doc": doc,
            "f": doc.facts,
            "member": member,
            "mission": mission,
            "sponsor": sponsor,
            "as_of": as_of,
        }
        letter = self.env.get_template(f"{doc.kind}.html").make_module(context)
        # The template's top-level `{% set subject = … %}` is exported on its module.
        subject = " ".join(str(letter.subject).split())  # type: ignore[attr-defined]
        html = str(letter)
        context["subject"] = subject
        return RenderedDocument(
            subject=subject,
            html=html,
            pdf=self._pdf(html, doc.key),
            email_text=self.env.get_template("email.txt").render(context),
            email_html=self.env.get_template("email.html").render(context),
        )

    def render_report(self, template: str, key: str, **context: Any) -> tuple[str, bytes]:
        """A staff report (not a letter) from ``template``: its HTML and its PDF."""
        html = self.env.get_template(template).render(coop=self.coop, **context)
        return html, self._pdf(html, key)

    @staticmethod
    def _pdf(html: str, key: str) -> bytes:
        # The file identifier derives from the ledger key and the creation date from the
        # letter's date (base.html), so the same letter always gives the same bytes.
        identifier = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32].encode("ascii")
        pdf: bytes = HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf(
            pdf_identifier=identifier
        )
        return pdf
