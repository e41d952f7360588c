"""Rendering at volume: one Typst compiler reused and worker processes change no byte.

``Renderer`` keeps one Typst compiler for all its letters, and ``render_all`` deals a large
batch out to worker processes (``python -m documents.render_worker``). Both are there for speed only
(bench/README.md): every PDF, HTML page and email body must come out exactly as a plain,
one-by-one rendering gives it.
"""

from __future__ import annotations

import pickle
from dataclasses import replace

from charter.params import CharterParams
from documents.rendering import (
    Batch,
    RenderedDocument,
    Renderer,
    RenderFailure,
    RenderJob,
    _in_worker,
    proper_names,
    render_all,
)
from documents.typst_pdf import TypstPdf
from tests.support.letter_cases import AS_OF, CASES, COOP


def jobs(count: int) -> list[RenderJob]:
    """``count`` documents of every kind in turn, each with its own key."""
    cases = list(CASES.values())
    made = []
    for n in range(count):
        case = cases[n % len(cases)]
        doc = replace(case.doc, key=f"{case.doc.key}:{n}")
        made.append(RenderJob(doc, case.member, case.mission, case.sponsor))
    return made


def in_two_workers(batch: list[RenderJob]) -> tuple[list[RenderedDocument | RenderFailure], int]:
    """``batch`` rendered by two workers, and how many times the progress bar was told."""
    done: list[None] = []  # once per letter, from either worker's thread
    results = render_all(
        batch,
        COOP,
        CharterParams(),
        AS_OF,
        workers=2,
        parallel_from=2,
        done=lambda: done.append(None),
    )
    return results, len(done)


def test_a_reused_compiler_gives_the_pdf_of_a_fresh_one():
    """The PDF depends on the letter's HTML and key alone, not on the letters before it."""
    renderer = Renderer(COOP, CharterParams())
    for job in jobs(len(CASES)):
        result = renderer.render(
            job.doc, member=job.member, mission=job.mission, sponsor=job.sponsor, as_of=AS_OF
        )
        assert "<style>" in result.html  # the HTML copy keeps its inline style
        names = proper_names(job.member, job.mission, job.sponsor)
        fresh = TypstPdf().pdf(result.html, key=job.doc.key, names=names)
        assert result.pdf == fresh, job.doc.kind


def test_worker_processes_give_the_same_documents_in_the_same_order():
    batch = jobs(len(CASES) + 3)
    broken = replace(batch[5], doc=replace(batch[5].doc, kind="no_such_kind"))
    batch[5] = broken  # a template bug: reported for that letter, the others rendered
    here = render_all(batch, COOP, CharterParams(), AS_OF, workers=1)
    parallel, done = in_two_workers(batch)
    assert len(parallel) == len(batch) == done
    assert isinstance(here[5], RenderFailure) and isinstance(parallel[5], RenderFailure)
    assert parallel[5].message == here[5].message
    assert "no_such_kind.html" in here[5].message
    for job, one, other in zip(batch, here, parallel, strict=True):
        if job is broken:
            continue
        assert isinstance(one, RenderedDocument) and isinstance(other, RenderedDocument)
        assert other == one, job.doc.key


def test_a_worker_sends_back_every_letter_itself():
    """Not through the fallback: the worker's own results come back whole and in order."""
    batch = jobs(4)
    from_worker = _in_worker(batch, Batch(COOP, CharterParams(), AS_OF))
    assert from_worker == render_all(batch, COOP, CharterParams(), AS_OF, workers=1)


class _FailsToUnpickle:
    """Pickles fine here; unpickling it in a worker raises, so that worker exits in error."""

    def __reduce__(self):
        return (_refuse, ())


def _refuse():
    raise RuntimeError("this value cannot cross to a worker")


def test_a_worker_that_fails_has_its_share_rendered_in_the_run(capfd):
    batch = jobs(6)
    poisoned = replace(batch[0].doc, facts={**batch[0].doc.facts, "unused": _FailsToUnpickle()})
    batch[0] = replace(batch[0], doc=poisoned)
    pickle.dumps(batch)  # the poison is only in the worker's unpickling
    assert _in_worker(batch[0::2], Batch(COOP, CharterParams(), AS_OF)) == []  # its share: lost
    results, done = in_two_workers(batch)
    assert all(isinstance(r, RenderedDocument) for r in results)
    assert done == len(batch)  # the share rendered again here counts once
    assert [r.subject for r in results] == [CASES[j.doc.kind].subject for j in batch]
    assert "this value cannot cross to a worker" in capfd.readouterr().err
