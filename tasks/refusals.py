"""A task that Airtable or Notion refuse ends ``Failed``, its state message the refusal's French
sentence (``integrations.refusals``), instead of raising: Prefect would log the exception's
traceback, and the staff need the sentence, not the traceback. ``tasks.quoting`` then raises
the refusal in the flow, which ends the same way (``flows.pipeline``). Any other exception is
raised as it is, traceback and all.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar

from prefect import State
from prefect.states import Failed

from integrations.refusals import find_refusal

P = ParamSpec("P")
R = TypeVar("R")


def refusal_fails(fn: Callable[P, R]) -> Callable[P, R]:
    """Put under ``@task``: a refusal becomes the task's ``Failed`` state."""

    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> Any:
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            state = refusal_state(exc)
            if state is None:
                raise
            return state

    return run


def refusal_state(exc: BaseException) -> State | None:
    """The ``Failed`` state a task or flow ends in when ``exc`` is (or wraps) a refusal, its
    message the French sentence; ``None`` for any other exception."""
    refusal = find_refusal(exc)
    return None if refusal is None else Failed(message=str(refusal), data=refusal)


class _NoEmptyTraceback(logging.Filter):
    """Prefect logs a task that returned a failed state with ``exc_info`` and no exception,
    which prints a stray ``NoneType: None``: drop that empty traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[0] is None:
            record.exc_info = None
        return True


logging.getLogger("prefect.task_runs").addFilter(_NoEmptyTraceback())
