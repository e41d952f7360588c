"""The local ledger, ``OUT/ledger.sqlite``: claims, marks, reads, and two runs racing on it."""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import multiprocessing.synchronize
import random
import sqlite3
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from charter.model import LedgerEntry, LedgerStatus
from integrations.ledger import LedgerRow, SqliteLedger

AS_OF = date(2026, 11, 26)


def row(key: str, status: LedgerStatus = LedgerStatus.PENDING, **fields: object) -> LedgerRow:
    return LedgerRow(key=key, kind=key.split(":")[0], status=status, issued_on=AS_OF, **fields)


def payout(mission: str, **fields: object) -> LedgerRow:
    """The mid-mission payout of 750 € to Aïcha Benali (rec1) for ``mission`` (rec2)."""
    return row(
        f"payout_mid:{mission}",
        member_id="rec1",
        member="Aïcha Benali",
        mission_id="rec2",
        mission=mission,
        amount=Decimal("750.00"),
        **fields,
    )


@pytest.fixture
def ledger(tmp_path: Path) -> SqliteLedger:
    return SqliteLedger(tmp_path / "out" / "ledger.sqlite")


# Claiming


def test_a_new_ledger_file_is_created_empty(tmp_path: Path) -> None:
    path = tmp_path / "out" / "ledger.sqlite"
    ledger = SqliteLedger(path)
    assert path.is_file()
    assert ledger.rows() == []
    assert ledger.load() == {}


def test_claim_returns_only_the_keys_not_yet_in_the_ledger(ledger: SqliteLedger) -> None:
    ledger.claim([row("renewal:Alice"), row("renewal:Bruno")])
    claimed = ledger.claim([row("renewal:Bruno"), row("exclusion:Chloé"), row("renewal:Alice")])
    assert claimed == ["exclusion:Chloé"]


def test_claiming_the_same_keys_again_claims_nothing_and_changes_nothing(
    ledger: SqliteLedger,
) -> None:
    rows = [row("renewal:Alice"), row("payout_mid:Site", amount=Decimal("750.00"))]
    assert ledger.claim(rows) == ["renewal:Alice", "payout_mid:Site"]
    ledger.mark("renewal:Alice", LedgerStatus.SENT)
    before = ledger.rows()
    again = [row("renewal:Alice"), row("payout_mid:Site", amount=Decimal("999.00"))]
    assert ledger.claim(again) == []
    assert ledger.rows() == before


def test_a_key_twice_in_one_batch_is_claimed_once(ledger: SqliteLedger) -> None:
    assert ledger.claim([row("renewal:Alice"), row("renewal:Alice")]) == ["renewal:Alice"]
    assert len(ledger.rows()) == 1


def test_a_claimed_row_keeps_every_field(ledger: SqliteLedger) -> None:
    claimed = payout("Site vitrine", registered=True, document="2026-11-26/avis.pdf")
    ledger.claim([claimed])
    assert ledger.rows() == [claimed]


# Marking


def test_mark_sent_records_the_status_and_the_document(ledger: SqliteLedger) -> None:
    ledger.claim([row("renewal:Alice")])
    ledger.mark("renewal:Alice", LedgerStatus.SENT, "2026-11-26/renewal-alice.pdf")
    (sent,) = ledger.rows()
    assert sent.status is LedgerStatus.SENT
    assert sent.document == "2026-11-26/renewal-alice.pdf"


def test_mark_failed_without_a_document_keeps_the_one_recorded(ledger: SqliteLedger) -> None:
    ledger.claim([row("renewal:Alice", document="2026-11-26/renewal-alice.pdf")])
    ledger.mark("renewal:Alice", LedgerStatus.FAILED)
    (failed,) = ledger.rows()
    assert failed.status is LedgerStatus.FAILED
    assert failed.document == "2026-11-26/renewal-alice.pdf"


def test_marking_an_unknown_key_raises_and_adds_nothing(ledger: SqliteLedger) -> None:
    ledger.claim([row("renewal:Alice")])
    with pytest.raises(KeyError, match="renewal:Bruno"):
        ledger.mark("renewal:Bruno", LedgerStatus.SENT)
    assert [r.key for r in ledger.rows()] == ["renewal:Alice"]


def test_a_run_keeps_its_marks_and_writes_them_together(tmp_path: Path) -> None:
    path = tmp_path / "out" / "ledger.sqlite"
    run = SqliteLedger(path, mark_batch=3)
    run.claim([row("renewal:Alice"), row("renewal:Bruno"), row("renewal:Chloé")])
    other = SqliteLedger(path)  # another process's view of the file

    def on_file() -> dict[str, LedgerStatus]:
        return {r.key: r.status for r in other.rows()}

    run.mark("renewal:Alice", LedgerStatus.SENT)
    run.mark("renewal:Bruno", LedgerStatus.FAILED)
    assert set(on_file().values()) == {LedgerStatus.PENDING}  # kept, not yet written
    run.mark("renewal:Chloé", LedgerStatus.SENT)  # the third: all three in one transaction
    assert on_file() == {
        "renewal:Alice": LedgerStatus.SENT,
        "renewal:Bruno": LedgerStatus.FAILED,
        "renewal:Chloé": LedgerStatus.SENT,
    }


def test_kept_marks_are_written_before_the_ledger_is_read_or_claimed(tmp_path: Path) -> None:
    path = tmp_path / "out" / "ledger.sqlite"
    run = SqliteLedger(path, mark_batch=50)
    run.claim([row("renewal:Alice"), row("renewal:Bruno")])
    run.mark("renewal:Alice", LedgerStatus.SENT)
    assert run.row("renewal:Alice").status is LedgerStatus.SENT  # type: ignore[union-attr]
    run.mark("renewal:Bruno", LedgerStatus.SENT)
    run.claim([row("renewal:Chloé")])
    assert {r.key: r.status for r in SqliteLedger(path).rows()} == {
        "renewal:Alice": LedgerStatus.SENT,
        "renewal:Bruno": LedgerStatus.SENT,
        "renewal:Chloé": LedgerStatus.PENDING,
    }
    run.mark("renewal:Chloé", LedgerStatus.FAILED)
    run.flush()
    assert SqliteLedger(path).row("renewal:Chloé").status is LedgerStatus.FAILED  # type: ignore[union-attr]


def test_a_kept_mark_of_an_unknown_key_raises_when_written(tmp_path: Path) -> None:
    run = SqliteLedger(tmp_path / "out" / "ledger.sqlite", mark_batch=50)
    run.claim([row("renewal:Alice")])
    run.mark("renewal:Bruno", LedgerStatus.SENT)
    with pytest.raises(KeyError, match="renewal:Bruno"):
        run.flush()


# Reading


def test_rows_filters_by_status(ledger: SqliteLedger) -> None:
    ledger.claim(
        [
            row("renewal:Alice"),
            row("renewal:Bruno"),
            row("renewal:Chloé"),
            row("contribution_statement:Alice:2025-12", LedgerStatus.HISTORICAL),
        ]
    )
    ledger.mark("renewal:Bruno", LedgerStatus.SENT)
    ledger.mark("renewal:Chloé", LedgerStatus.FAILED)

    def keys(status: LedgerStatus | None = None) -> list[str]:
        return [r.key for r in ledger.rows(status)]

    assert keys(LedgerStatus.PENDING) == ["renewal:Alice"]
    assert keys(LedgerStatus.SENT) == ["renewal:Bruno"]
    assert keys(LedgerStatus.FAILED) == ["renewal:Chloé"]
    assert keys(LedgerStatus.HISTORICAL) == ["contribution_statement:Alice:2025-12"]
    assert len(keys()) == 4


@pytest.mark.parametrize(
    "amount", ["750.00", "-125.50", "0.00", "0.01", "1234567.89", "0.1000", "1E+3"]
)
def test_amounts_come_back_as_the_exact_same_decimal(ledger: SqliteLedger, amount: str) -> None:
    ledger.claim([row("payout_mid:Site", amount=Decimal(amount))])
    (stored,) = ledger.rows()
    assert isinstance(stored.amount, Decimal)
    assert str(stored.amount) == amount  # same value and same exponent: "750.00", not "750"


def test_a_row_without_an_amount_comes_back_without_one(ledger: SqliteLedger) -> None:
    ledger.claim([row("renewal:Alice")])
    assert ledger.rows()[0].amount is None


def test_historical_rows_are_recorded_as_such(ledger: SqliteLedger) -> None:
    key = "contribution_statement:Alice:2025-12"
    assert ledger.claim([row(key, LedgerStatus.HISTORICAL)]) == [key]
    (historical,) = ledger.rows()
    assert historical.status is LedgerStatus.HISTORICAL
    assert ledger.rows(LedgerStatus.PENDING) == []


def test_load_gives_the_charter_ledger_entries(ledger: SqliteLedger) -> None:
    ledger.claim(
        [
            payout("Site"),
            row("renewal:Alice", LedgerStatus.HISTORICAL, member_id="rec3"),
        ]
    )
    ledger.mark("payout_mid:Site", LedgerStatus.SENT)
    assert ledger.load() == {
        "payout_mid:Site": LedgerEntry(
            key="payout_mid:Site",
            kind="payout_mid",
            status=LedgerStatus.SENT,
            issued_on=AS_OF,
            amount=Decimal("750.00"),
            member_id="rec1",
            mission_id="rec2",
        ),
        "renewal:Alice": LedgerEntry(
            key="renewal:Alice",
            kind="renewal",
            status=LedgerStatus.HISTORICAL,
            issued_on=AS_OF,
            member_id="rec3",
        ),
    }


def test_the_ledger_survives_reopening_the_file(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    SqliteLedger(path).claim([row("renewal:Alice")])
    reopened = SqliteLedger(path)
    assert [r.key for r in reopened.rows()] == ["renewal:Alice"]
    assert reopened.claim([row("renewal:Alice")]) == []


# The go-live date


def test_a_new_ledger_has_no_go_live_date(ledger: SqliteLedger) -> None:
    assert ledger.go_live() is None


def test_the_go_live_date_recorded_is_read_back(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    SqliteLedger(path).record_go_live(date(2026, 1, 1))
    assert SqliteLedger(path).go_live() == date(2026, 1, 1)


def test_recording_the_go_live_date_again_replaces_it(ledger: SqliteLedger) -> None:
    ledger.record_go_live(date(2026, 1, 1))
    ledger.record_go_live(date(2026, 3, 1))
    assert ledger.go_live() == date(2026, 3, 1)
    ledger.record_go_live(None)
    assert ledger.go_live() is None


# Two runs at once


KEYS = [f"payout_mid:Mission {i:03d}" for i in range(200)]


def claim_all_at_once(
    path: str,
    batch: int,
    seed: int,
    start: multiprocessing.synchronize.Barrier,
    results: multiprocessing.queues.Queue,
) -> None:
    """One racing run, in its own process: wait for the other, then claim every key."""
    keys = list(KEYS)
    random.Random(seed).shuffle(keys)
    try:
        ledger = SqliteLedger(Path(path))
        start.wait(timeout=60)
        claimed = []
        for i in range(0, len(keys), batch):
            claimed += ledger.claim([row(key) for key in keys[i : i + batch]])
    except Exception as error:  # reported to the test rather than left in a child's stderr
        results.put(repr(error))
        raise
    results.put(claimed)


def claimed_by_one_run(results: multiprocessing.queues.Queue) -> list[str]:
    outcome = results.get(timeout=60)
    assert isinstance(outcome, list), f"a run failed: {outcome}"
    return outcome


@pytest.mark.parametrize("batch", [200, 1], ids=["one batch each", "key by key"])
def test_two_processes_claiming_the_same_keys_at_once_claim_each_exactly_once(
    tmp_path: Path, batch: int
) -> None:
    path = tmp_path / "ledger.sqlite"
    SqliteLedger(path)
    spawn = multiprocessing.get_context("spawn")
    start, results = spawn.Barrier(2), spawn.Queue()
    runs = [
        spawn.Process(target=claim_all_at_once, args=(str(path), batch, seed, start, results))
        for seed in (1, 2)
    ]
    for run in runs:
        run.start()
    try:
        first, second = (claimed_by_one_run(results) for _ in runs)
    finally:
        for run in runs:
            run.kill()  # a run left waiting at the barrier after the other failed
            run.join()
    claimed_twice = sorted(set(first) & set(second))
    assert claimed_twice == []
    assert sorted(first + second) == sorted(KEYS)
    assert [r.key for r in SqliteLedger(path).rows()] == sorted(KEYS)


def test_opening_a_new_ledger_waits_for_a_run_that_is_writing_it(tmp_path: Path) -> None:
    """The second of two first runs opens the file while the first still creates it."""
    path = tmp_path / "ledger.sqlite"
    other_run = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other_run.execute("BEGIN IMMEDIATE")
    other_run.execute("CREATE TABLE started (at TEXT)")
    finish = threading.Timer(0.5, other_run.execute, args=("COMMIT",))
    finish.start()
    try:
        ledger = SqliteLedger(path)
    finally:
        finish.join()
        other_run.close()
    assert ledger.claim([row("renewal:Alice")]) == ["renewal:Alice"]
