"""Calling our Prefect tasks without Prefect walking through their inputs.

Before a task runs, Prefect looks through each of its arguments for futures and states to wait
on, visiting every item of every list, dict and dataclass inside: for a cooperative of 1,000
members that took 11 s per task call, and it grows with the records (``bench/README.md``). Our
tasks are never handed futures or states, so ``quoted`` passes every argument ``quote``d:
Prefect gives it to the task as it is, without looking inside. It also tells whoever watches
the run (``services.progress``) which step the run is at. A task that ended ``Failed``
(``tasks.refusals``) comes back as its state: the call raises the state's exception.
"""

from __future__ import annotations

from functools import update_wrapper
from typing import Any, Generic, ParamSpec, TypeVar

from prefect import State, Task
from prefect.futures import PrefectFuture
from prefect.utilities.annotations import quote

from services import progress

P = ParamSpec("P")
R = TypeVar("R")


class QuotedTask(Generic[P, R]):
    """A task called with its arguments quoted; every other attribute is the task's."""

    def __init__(self, task: Task[P, R]) -> None:
        self.task = task
        update_wrapper(self, task.fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        quoted_args: Any = [quote(value) for value in args]
        quoted_kwargs: Any = {name: quote(value) for name, value in kwargs.items()}
        progress.step(self.task.name)
        result = self.task(*quoted_args, **quoted_kwargs)
        if isinstance(result, State):  # a task that ended Failed (``tasks.refusals``)
            return result.result()  # type: ignore[no-any-return]  # raises its exception
        return result

    def submit(self, *args: P.args, **kwargs: P.kwargs) -> PrefectFuture[R]:
        """Run the task beside the flow (Prefect's task runner, a thread of this process),
        its arguments quoted; the future's ``result()`` raises what the task raised."""
        quoted_args: Any = [quote(value) for value in args]
        quoted_kwargs: Any = {name: quote(value) for name, value in kwargs.items()}
        progress.step(self.task.name)
        return self.task.submit(*quoted_args, **quoted_kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.task, name)


def quoted(task: Task[P, R]) -> QuotedTask[P, R]:
    """Put above ``@task``: the task is then called with its arguments quoted."""
    return QuotedTask(task)
