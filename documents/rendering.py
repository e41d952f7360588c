"""Turn a document that fell due into the letter a member receives: HTML, PDF and email bodies.

The wording lives in ``templates/`` (one ``<kind>.html`` per document kind, sharing
``base.html``; ``email.txt`` and ``email.html`` for the message that carries the PDF). This
module only assembles the context the templates read and runs Jinja2; Typst typesets the
letter's HTML into its PDF (``documents.typst_pdf``).

>>> renderer = Renderer(CooperativeInfo(), CharterParams())
>>> rendered = renderer.render(doc, member=member, mission=None, sponsor=None,
...                            as_of=date(2026, 11, 26))          # doctest: +SKIP
>>> rendered.subject                                               # doctest: +SKIP
'Accusé de réception de votre démission'
"""

from __future__ import annotations

import logging
import os
import pickle
import subprocess
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

import templates
from charter import french
from charter.model import Document, Member, Mission
from charter.params import CharterParams
from documents.typst_pdf import TypstPdf
from settings.config import CooperativeInfo

_LOGGER = logging.getLogger(__name__)

#: The Jinja filters of the letters (``{{ f.amount|money }}``). In a letter a date stays on one
#: line; money and rates already do (Babel's separators do not break).
FILTERS = {
    "money": french.money,
    "long_date": lambda day: french.unbreakable(french.long_date(day)),
    "month": lambda day: french.unbreakable(french.month(day)),
    "percent": french.percent,
}

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
        # One Typst compiler for every PDF: its layout and fonts are loaded once.
        self._typst = TypstPdf()

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
            pdf=self._pdf(html, doc.key, proper_names(member, mission, sponsor)),
            email_text=self.env.get_template("email.txt").render(context),
            email_html=self.env.get_template("email.html").render(context),
        )

    def render_report(self, template: str, key: str, **context: Any) -> tuple[str, bytes]:
        """A staff report (not a letter) from ``template``: its HTML and its PDF."""
        html = self.env.get_template(template).render(coop=self.coop, **context)
        # A report is lists and tables of names: no word is hyphenated.
        return html, self._typst.pdf(html, key=key, hyphenate=False)

    def _pdf(self, html: str, key: str, names: Sequence[str] = ()) -> bytes:
        # The PDF's date is the letter's (base.html) and its identifier derives from its
        # content, so the same letter always gives the same bytes.
        return self._typst.pdf(html, key=key, names=names)


def proper_names(member: Member, mission: Mission | None, sponsor: Member | None) -> list[str]:
    """The proper names a letter may print, which are never hyphenated."""
    names = [member.name, sponsor.name if sponsor else ""]
    if mission is not None:
        names += [mission.title, mission.client or ""]
    return [name for name in names if name]


@dataclass(frozen=True)
class RenderJob:
    """One document and the records its letter names."""

    doc: Document
    member: Member
    mission: Mission | None
    sponsor: Member | None


@dataclass(frozen=True)
class RenderFailure:
    """A document that could not be rendered (a template bug): the error, as text."""

    message: str


def no_progress() -> None:
    """What ``done`` does when no one follows the batch: nothing."""


#: Fewer documents than this are rendered in the run's own process: starting the worker
#: processes (about a second each) would cost more than it saves.
PARALLEL_FROM = 40


def render_workers() -> int:
    """Processes to render with: ``CAE_RENDER_WORKERS``, else one per CPU this process may
    use, at most 4 (each holds about 90 MB)."""
    configured = os.environ.get("CAE_RENDER_WORKERS", "").strip()
    if configured:
        return max(1, int(configured))
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(4, cpus or 1))


@dataclass(frozen=True)
class Batch:
    """What every letter of a batch shares: the cooperative, the charter's parameters, the day."""

    coop: CooperativeInfo
    params: CharterParams
    as_of: date


#: Where each result goes as soon as it is made: its job's index and the result, pickled.
Keep = Callable[[int, bytes], None]


def never() -> bool:
    """What ``stop`` says when no one stops the batch: go on."""
    return False


def render_all(
    jobs: Sequence[RenderJob],
    coop: CooperativeInfo,
    params: CharterParams,
    as_of: date,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    done: Callable[[], None] = no_progress,
) -> list[RenderedDocument | RenderFailure]:
    """Render every job, in order; a job that fails gives a ``RenderFailure``, not an exception.

    ``render_stream`` with the results gathered in a list. ``done`` is called once per letter,
    as each is made (from several threads when workers render).
    """
    results: list[RenderedDocument | RenderFailure] = [RenderFailure("")] * len(jobs)

    def keep(index: int, data: bytes) -> None:
        results[index] = pickle.loads(data)
        done()

    render_stream(jobs, coop, params, as_of, keep, workers, parallel_from)
    return results


def render_stream(
    jobs: Sequence[RenderJob],
    coop: CooperativeInfo,
    params: CharterParams,
    as_of: date,
    keep: Keep,
    workers: int | None = None,
    parallel_from: int = PARALLEL_FROM,
    stop: Callable[[], bool] = never,
) -> None:
    """Render every job and hand each result to ``keep`` as soon as it is made, pickled, with
    its job's index (from several threads when workers render): nothing is held here. A job
    that fails gives a ``RenderFailure``, not an exception. Once ``stop()`` is true, no more
    letters are made.

    From ``parallel_from`` documents on, with more than one worker, the jobs are dealt out to
    that many worker processes (``python -m documents.render_worker``; the PDF engine holds the
    interpreter lock, threads would not help). Workers are plain child processes, not
    multiprocessing's: those would import the caller's main script again. A worker that fails
    has its share rendered here.
    """
    workers = render_workers() if workers is None else workers
    batch = Batch(coop, params, as_of)
    if workers < 2 or len(jobs) < parallel_from:
        render_here(list(range(len(jobs))), jobs, batch, keep, stop)
        return

    def share(mine: list[int]) -> None:
        back = _stream_worker(mine, jobs, batch, keep, stop)
        render_here(mine[back:], jobs, batch, keep, stop)

    with ThreadPoolExecutor(workers) as threads:
        list(threads.map(share, [list(range(i, len(jobs), workers)) for i in range(workers)]))


def render_here(
    indices: list[int],
    jobs: Sequence[RenderJob],
    batch: Batch,
    keep: Keep,
    stop: Callable[[], bool],
) -> None:
    """Render the jobs at ``indices`` in this process, handing each to ``keep``."""
    if not indices or stop():
        return
    renderer = Renderer(batch.coop, batch.params)
    for index in indices:
        if stop():
            return
        result = render_one(renderer, jobs[index], batch.as_of)
        keep(index, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))


def render_one(renderer: Renderer, job: RenderJob, as_of: date) -> RenderedDocument | RenderFailure:
    try:
        return renderer.render(
            job.doc, member=job.member, mission=job.mission, sponsor=job.sponsor, as_of=as_of
        )
    except Exception as exc:  # a template bug must not stop the other letters
        return RenderFailure(str(exc))


LENGTH_BYTES = 8  # the length written before each pickled result


def _in_worker(
    jobs: list[RenderJob], batch: Batch, done: Callable[[], None] = no_progress
) -> list[RenderedDocument | RenderFailure]:
    """Render ``jobs`` in a child process; return those that came back, in order, all of them
    unless the worker failed."""
    results: list[RenderedDocument | RenderFailure] = []

    def keep(index: int, data: bytes) -> None:
        results.append(pickle.loads(data))
        done()

    _stream_worker(list(range(len(jobs))), jobs, batch, keep, never)
    return results


def _stream_worker(
    indices: list[int],
    jobs: Sequence[RenderJob],
    batch: Batch,
    keep: Keep,
    stop: Callable[[], bool],
) -> int:
    """Render the jobs at ``indices`` in a child process, which sends each letter back as soon
    as it is made (it holds one at a time); hand each to ``keep`` still pickled, and return how
    many came back, all of them unless the worker failed or ``stop()`` became true."""
    payload = pickle.dumps(([jobs[i] for i in indices], batch), protocol=pickle.HIGHEST_PROTOCOL)
    back = 0
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "documents.render_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
    except OSError:
        return back
    assert process.stdin is not None and process.stdout is not None
    try:
        with process.stdin:
            process.stdin.write(payload)  # the worker reads it all before it writes
        while back < len(indices) and not stop():
            header = process.stdout.read(LENGTH_BYTES)
            if len(header) < LENGTH_BYTES:
                break  # the worker stopped: what came back whole is kept
            size = int.from_bytes(header, "big")
            data = process.stdout.read(size)
            if len(data) < size:
                break
            keep(indices[back], data)
            back += 1
    except Exception as exc:  # whatever went wrong, the letters not back are rendered here
        _LOGGER.warning("Processus de rendu en échec (%s) : sa part est rendue ici.", exc)
    finally:
        if back < len(indices) and stop():
            process.kill()
        process.stdout.close()
        if process.wait() != 0 and not stop():
            _LOGGER.warning("Processus de rendu en échec : sa part est rendue ici.")
    return back
