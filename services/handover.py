"""What the claim, render and deliver steps of a run hand each other while they run side by side.

The three steps of a run that issue letters overlap (``flows/pipeline.py``): the ledger claims
the due keys a batch at a time (``services.ledger.claim``), the workers render every letter that
may be issued meanwhile (``services.delivery.render_into``), and the run's own process delivers
each letter as soon as it is both rendered and claimed (``services.delivery.deliver``). A letter
is never sent before its key is recorded in the ledger as claimed by this run: a letter whose
key another run claimed first is rendered for nothing and thrown away.

Rendered letters wait on disk, not in memory: each as the pickle a worker sent back, in a
temporary folder that goes when the run ends (``open_handover``). The run's process holds one
letter at a time.

    >>> with open_handover(evaluation.documents) as handover:          # doctest: +SKIP
    ...     # claim_documents(…, handover), render_documents(handover, …) in their threads
    ...     for doc, letter in handover.letters(): ...
"""

from __future__ import annotations

import pickle
import tempfile
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from charter.model import Document
from documents.rendering import RenderedDocument, RenderFailure
from integrations.ledger_fields import TABLES, table_for


class Handover:
    """The letters of one run between their claim, their rendering and their delivery."""

    def __init__(self, documents: Sequence[Document], folder: Path) -> None:
        #: The letters this run may issue (historical documents are only recorded), in the
        #: order they are claimed.
        self.documents = sorted((doc for doc in documents if not doc.historical), key=claim_order)
        self.folder = folder
        #: Every key the ledger recorded as claimed by this run, in claim order.
        self.claimed_keys: list[str] = []
        self._index = {doc.key: index for index, doc in enumerate(self.documents)}
        self._changed = threading.Condition()
        self._claimed: set[int] = set()  # letters claimed, rendered or not
        self._rendered: set[int] = set()  # letters on disk, claimed or not
        self._ready: deque[int] = deque()  # claimed and rendered, not yet taken
        self._waiting = 0  # claimed, not yet rendered
        self._claims_over = False
        self._render_over = False
        self._stopped = False

    # -- the claim step ---------------------------------------------------------------------

    def claimed(self, keys: Sequence[str]) -> None:
        """The ledger recorded ``keys`` as claimed by this run: their letters may go."""
        with self._changed:
            self.claimed_keys += keys
            for key in keys:
                index = self._index.get(key)
                if index is None or index in self._claimed:
                    continue  # a historical document: recorded, never issued
                self._claimed.add(index)
                if index in self._rendered:
                    self._ready.append(index)
                else:
                    self._waiting += 1
            self._changed.notify_all()

    def claims_over(self) -> None:
        """No more claims (done, or stopped by an error): unclaimed letters will not go."""
        with self._changed:
            self._claims_over = True
            self._changed.notify_all()

    # -- the render step --------------------------------------------------------------------

    def keep(self, index: int, data: bytes) -> None:
        """The letter of ``self.documents[index]``, pickled as it came from its worker: to disk."""
        (self.folder / str(index)).write_bytes(data)
        with self._changed:
            self._rendered.add(index)
            if index in self._claimed:
                self._ready.append(index)
                self._waiting -= 1
            self._changed.notify_all()

    def render_over(self) -> None:
        """No more letters will be rendered (all of them, or stopped by an error)."""
        with self._changed:
            self._render_over = True
            self._changed.notify_all()

    # -- the deliver step -------------------------------------------------------------------

    def letters(self) -> Iterator[tuple[Document, RenderedDocument | RenderFailure]]:
        """Each letter claimed by this run, as soon as it is rendered too; the end comes once
        the claims are over and every claimed letter was taken (or rendering is over)."""
        while True:
            with self._changed:
                while not self._ready and not self._finished():
                    self._changed.wait()
                if not self._ready:
                    return
                index = self._ready.popleft()
            path = self.folder / str(index)
            result = pickle.loads(path.read_bytes())
            path.unlink()
            yield self.documents[index], result

    def _finished(self) -> bool:
        return self._stopped or (self._claims_over and (self._render_over or self._waiting == 0))

    def stop(self) -> None:
        """The run failed: the claim and render steps stop as soon as they can."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()

    def stopped(self) -> bool:
        return self._stopped


def claim_order(doc: Document) -> tuple[bool, int]:
    """Where ``doc`` comes in the claims: the letters to issue first, table by table as the
    ledger lists its tables, then the historical documents."""
    return doc.historical, TABLES.index(table_for(doc.kind))


@contextmanager
def open_handover(documents: Sequence[Document]) -> Iterator[Handover]:
    """A ``Handover`` for ``documents``, its letters kept in a temporary folder removed after."""
    with tempfile.TemporaryDirectory(prefix="cae-courriers-") as folder:
        yield Handover(documents, Path(folder))
