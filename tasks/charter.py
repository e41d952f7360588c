"""Evaluate: apply the charter (pure code in ``charter/``) to the records as of one day."""

from __future__ import annotations

from datetime import date

from prefect import task
from prefect.cache_policies import NO_CACHE

from charter.evaluate import evaluate
from charter.model import Cooperative, Evaluation, Ledger
from charter.params import CharterParams
from charter.scope import Scope
from tasks.quoting import quoted


@quoted
@task(name="evaluate-charter", cache_policy=NO_CACHE)
def evaluate_charter(
    coop: Cooperative,
    ledger: Ledger,
    as_of: date,
    params: CharterParams,
    go_live: date | None,
    scope: Scope | None = None,
) -> Evaluation:
    evaluation = evaluate(coop, ledger, as_of, params, go_live)
    return evaluation if scope is None else scope.narrow(evaluation)
