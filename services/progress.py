"""How far a run has gone, for whoever watches it: the step it is at, the letters of a batch.

``cae run`` in a terminal watches (``cae/terminal.py``: a line per step, a progress bar on a
long batch). A run a deployment started has no watcher, and these calls do nothing. There is
one watcher for the process, as there is one terminal; it may be told from several threads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol


class Watcher(Protocol):
    def step(self, name: str) -> None:
        """The run starts the task ``name`` (``load-records``, ``render-documents``…)."""

    def start(self, label: str, total: int) -> None:
        """A batch of ``total`` items begins: ``label`` says what is done to them, in French."""

    def advance(self) -> None:
        """One more item of the batch is done."""

    def finish(self) -> None:
        """The batch is over."""


_watchers: list[Watcher] = []


@contextmanager
def watching(watcher: Watcher) -> Iterator[None]:
    """``watcher`` hears of the steps and batches of the runs in this block."""
    _watchers.append(watcher)
    try:
        yield
    finally:
        _watchers.remove(watcher)


def step(name: str) -> None:
    for watcher in _watchers:
        watcher.step(name)


@contextmanager
def batch(label: str, total: int) -> Iterator[Callable[[], None]]:
    """A batch of ``total`` items; call what it yields once per item done."""
    watchers = list(_watchers)
    for watcher in watchers:
        watcher.start(label, total)

    def advance() -> None:
        for watcher in watchers:
            watcher.advance()

    try:
        yield advance
    finally:
        for watcher in watchers:
            watcher.finish()
