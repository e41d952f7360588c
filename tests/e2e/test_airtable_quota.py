"""Airtable's monthly quota spent: the run stops at once, and the next run finishes the job.

The emulator answers 429 ``PUBLIC_API_BILLING_LIMIT_EXCEEDED`` from a chosen request on, as
Airtable does once a workspace has spent its monthly API calls. The client must not take that
for a rate limit: no 30 s penalty, no retry, a French message naming the plans' quotas. Struck
before anything was claimed, while claiming, while marking documents sent, or while writing a
status back, the run then run again (the quota renewed) must have mailed every document of the
day exactly once, and left every ledger row ``sent``.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from flows.daily import daily
from integrations.airtable import AirtableQuotaExceeded
from services.backlog import BACKLOG
from settings.defaults import EXAMPLE_DIR
from tests.support.airtable_example import LEDGER_TABLES, example_base, named
from tests.support.example_runs import RUN_1, assert_matches
from tests.support.smtp_server import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]
DAY = date.fromisoformat(RUN_1["as_of"])
PENALTY = 30.0  # Airtable's real penalty after a rate-limit 429: the quota must not wait it


def run_day(out: Path) -> dict:
    """The day's run; the example's ``cae.toml`` gives the letters emailed their identity."""
    return daily(source="airtable", as_of=DAY, out=str(out), config=str(EXAMPLE_DIR / "cae.toml"))


@pytest.fixture
def base(monkeypatch: pytest.MonkeyPatch):
    """The example base, and a mail server, for one scenario."""
    with example_base(PENALTY) as emulator, SmtpServer() as smtp:
        for name, value in smtp.environment().items():
            monkeypatch.setenv(name, value)
        yield emulator, smtp


@pytest.fixture(scope="module")
def operations(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The operations of an undisturbed first run, in order (``list``, ``upsert``, ``update``)."""
    with example_base() as emulator:
        run_day(tmp_path_factory.mktemp("reference"))
        return [r.operation for r in emulator.requests]


def test_quota_spent_stops_the_run_at_once_with_a_french_message(base, tmp_path, capsys):
    emulator, smtp = base
    emulator.exceed_monthly_quota()
    started = time.monotonic()
    with pytest.raises(AirtableQuotaExceeded) as stopped:
        run_day(tmp_path / "out")
    elapsed = time.monotonic() - started
    message = str(stopped.value)
    print(f"\nStopped after {elapsed:.1f} s and {emulator.count()} request(s): {message}")
    assert elapsed < 10, "no penalty waited"
    # The records and the ledger are read side by side: each read's first request, no retry.
    assert emulator.count() == emulator.count_429() <= 2, "no retry"
    assert "appels à l'API du mois sont épuisés" in message
    assert "1 000 appels avec l'offre Free, 100 000 avec l'offre Team" in message
    assert smtp.recorder.received == []

    emulator.clear_faults()
    assert_matches(RUN_1, named(run_day(tmp_path / "out"), emulator), source="airtable")


@pytest.mark.parametrize(
    "strike", ["first claim", "second claim", "first mark", "last mark", "status write"]
)
def test_a_run_stopped_mid_way_loses_nothing_and_sends_nothing_twice(
    base, operations, tmp_path, strike
):
    emulator, smtp = base
    writes = [i for i, op in enumerate(operations) if op != "list"]
    upserts = [i for i in writes if operations[i] == "upsert"]
    updates = [i for i in writes if operations[i] == "update"]
    after = {
        "first claim": upserts[0],
        "second claim": upserts[1],
        "first mark": updates[0],
        "last mark": updates[-2],  # the last one writes Membres.Statut
        "status write": updates[-1],
    }[strike]
    out = tmp_path / "out"
    emulator.exceed_monthly_quota(after=after)
    with pytest.raises(AirtableQuotaExceeded):
        run_day(out)
    stopped_mailed = len(smtp.recorder.received)

    emulator.clear_faults()
    second = run_day(out)
    mailed = smtp.recorder.per_key()
    expected = {d["key"] for d in RUN_1["documents"]}
    as_named = named({"documents": [{"key": key} for key in mailed]}, emulator)["documents"]
    readable = Counter({d["key"]: mailed[key] for d, key in zip(as_named, mailed, strict=True)})
    print(f"\n{strike}: {stopped_mailed} mailed before the stop, {len(second['documents'])} after")
    assert set(readable) == expected and set(readable.values()) == {1}
    statuses = Counter(r["fields"]["Statut"] for t in LEDGER_TABLES for r in emulator.records(t))
    assert statuses == Counter({"sent": len(expected)})
    assert not (out / BACKLOG).exists()
    julien = [r for r in emulator.records("Membres") if r["fields"]["Nom"] == "Julien Perrot"]
    assert julien[0]["fields"].get("Statut") == "Exclu·e"
