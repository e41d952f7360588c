"""Our tasks get their arguments as they are, with Prefect not looking inside them.

``tasks.quoting.quoted`` passes every argument ``quote``d (bench/README.md: Prefect otherwise
walks every record of the cooperative before each task). The task must still run as a Prefect
task run and receive the very objects it was called with.
"""

from __future__ import annotations

import time
from datetime import date

import pytest
from prefect import flow, get_client, task
from prefect.cache_policies import NO_CACHE
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

from charter.evaluate import evaluate
from integrations.assemble import assemble
from integrations.workbook import LocalWorkbook
from settings.defaults import EXAMPLE_DIR
from settings.schema import Schema
from tasks.charter import evaluate_charter
from tasks.quoting import quoted

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]


@quoted
@task(name="identity", cache_policy=NO_CACHE)
def identities(*values: object, **named: object) -> list[int]:
    return [id(v) for v in values] + [id(v) for v in named.values()]


def test_a_quoted_task_receives_the_very_objects_and_runs_as_a_task_run():
    records = {"members": [{"name": "Alice", "links": ["Bob"]}], "count": 1}
    rows = [records, records]

    @flow
    def one_call() -> tuple[list[int], str]:
        from prefect.runtime import flow_run

        return identities(records, rows=rows), str(flow_run.get_id())

    received, run_id = one_call()
    assert received == [id(records), id(rows)]
    assert task_run_names(run_id) == ["identity"]
    assert identities.name == "identity"  # the task's own attributes are still there


def task_run_names(run_id: str) -> list[str]:
    """The flow run's task runs, once the server has them (they are reported in the
    background)."""
    deadline = time.monotonic() + 60
    with get_client(sync_client=True) as client:
        while True:
            runs = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id]))
            )
            if runs or time.monotonic() > deadline:
                return [r.name.rsplit("-", 1)[0] for r in runs]
            time.sleep(0.5)


def test_the_pipeline_task_evaluates_as_the_engine_does():
    schema = Schema.default()
    coop, _ = assemble(LocalWorkbook(EXAMPLE_DIR).read(schema), schema)
    as_of = date(2026, 11, 26)

    @flow
    def evaluation():
        return evaluate_charter(coop, {}, as_of, None, None)

    assert evaluation() == evaluate(coop, {}, as_of)
