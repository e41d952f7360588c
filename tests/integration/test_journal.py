"""The delivery journal (``integrations.journal``) and its settling into the ledger
(``services.journal``), on real files, a real SQLite ledger and real processes killed with
SIGKILL."""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path

import pytest

from charter.model import LedgerStatus
from integrations.journal import FOLDER, Journal, dead_journals, parse
from integrations.ledger import LedgerRow, SqliteLedger
from services.journal import RELEASED, SENT, WAITING, Decision, decide, settle_journals

AS_OF = date(2026, 11, 26)
ROOT = Path(__file__).resolve().parents[2]


def row(key: str) -> LedgerRow:
    return LedgerRow(key=key, kind="renewal", status=LedgerStatus.PENDING, issued_on=AS_OF)


def ledger(out: Path) -> SqliteLedger:
    store = SqliteLedger(out / "ledger.sqlite")
    store.journal = Journal(out, "local")
    return store


def statuses(store: SqliteLedger) -> dict[str, str]:
    return {r.key: r.status.value for r in store.rows()}


def journals(out: Path) -> list[Path]:
    return sorted((out / FOLDER).glob("*.jsonl"))


def test_each_event_is_one_line_on_disk_at_once(tmp_path):
    journal = Journal(tmp_path, "local")
    journal.claimed(["b", "a"])
    journal.attempting("a")
    (path,) = journals(tmp_path)
    # Written through at each event, not at close: another reader sees it now.
    lines = path.read_text("utf-8").splitlines()
    assert [json.loads(line).get("event") for line in lines] == [None, "claimed", "attempting"]
    assert json.loads(lines[0])["ledger"] == "local"
    journal.answer("a", "sent", "documents/renewal/a.pdf")
    journal.settled()
    assert path.exists()  # b is still to be sent: the journal goes on
    journal.attempting("b")
    journal.answer("b", "failed")
    entries = parse(path.read_text("utf-8").splitlines())
    assert entries.claimed == {"a", "b"} and entries.attempting == {"a", "b"}
    assert entries.answers == {"a": ("sent", "documents/renewal/a.pdf"), "b": ("failed", None)}
    journal.settled()
    assert not path.exists()


def test_a_torn_last_line_is_skipped():
    lines = [
        json.dumps({"ledger": "local"}),
        json.dumps({"event": "answer", "key": "a", "status": "sent"}),
        '{"event": "answer", "key": "b", "sta',  # a power cut mid-line
    ]
    assert parse(lines).answers == {"a": ("sent", None)}


def test_a_journal_that_writes_nothing_creates_no_file(tmp_path):
    Journal(None).attempting("a")
    journal = Journal(tmp_path, "local")
    journal.settled()
    journal.close()
    assert not (tmp_path / FOLDER).exists()


def test_every_outcome_of_a_dead_run_reaches_the_local_ledger(tmp_path):
    store = ledger(tmp_path)
    keys = ["accepted", "refused", "cut", "unknown", "never", "resolved", "historical"]
    assert store.claim([row(k) for k in keys]) == keys
    store.mark("historical", LedgerStatus.HISTORICAL)
    journal = store.journal
    for key, answer in (("accepted", "sent"), ("refused", "failed"), ("unknown", "unknown")):
        journal.attempting(key)
        journal.answer(key, answer, f"documents/renewal/{key}.pdf")
    journal.attempting("cut")  # killed during this transaction
    journal.claiming(["stranger"])  # on SQLite, an unconfirmed claim is nobody's proof
    SqliteLedger(tmp_path / "ledger.sqlite").claim([row("stranger")])  # another run's claim
    journal.attempting("resolved")
    journal.answer("resolved", "sent")
    store.mark("resolved", LedgerStatus.FAILED)  # a person settled it meanwhile
    journal.close()  # the run died: its marks never all reached the ledger

    following = ledger(tmp_path)
    settled = settle_journals(following, tmp_path)
    assert settled == {SENT: 1, "failed": 1, RELEASED: 1, WAITING: 2}
    assert statuses(following) == {
        "accepted": "sent",
        "refused": "failed",
        "never": "failed",  # released: issued again by this run, as any failed key
        "cut": "pending",
        "unknown": "pending",
        "stranger": "pending",
        "resolved": "failed",
        "historical": "historical",
    }
    assert following.row("accepted").document == "documents/renewal/accepted.pdf"
    assert journals(tmp_path) == []
    assert settle_journals(following, tmp_path) == {}  # settled once


def test_a_running_process_s_journal_waits_and_is_settled_once_it_is_killed(tmp_path):
    SqliteLedger(tmp_path / "ledger.sqlite").claim([row("a"), row("b")])
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from integrations.journal import Journal\n"
            "journal = Journal(Path(sys.argv[1]), 'local')\n"
            "journal.claimed(['a', 'b'])\n"
            "journal.attempting('a')\n"
            "journal.answer('a', 'sent')\n"
            "print('ready', flush=True)\n"
            "time.sleep(120)\n",
            str(tmp_path),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None and child.stdout.readline() == "ready\n"
        store = ledger(tmp_path)
        assert settle_journals(store, tmp_path) == {}  # its run is at work: left alone
        assert statuses(store) == {"a": "pending", "b": "pending"}
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    assert settle_journals(store, tmp_path) == {SENT: 1, RELEASED: 1}
    assert statuses(store) == {"a": "sent", "b": "failed"}


def test_a_journal_whose_run_died_while_opening_it_is_removed(tmp_path):
    (tmp_path / FOLDER).mkdir()
    opening = tmp_path / FOLDER / "20261126T070000-1-abcd.opening"
    opening.write_text('{"ledger": "local"}\n', "utf-8")
    with dead_journals(tmp_path, "local") as found:
        assert found == []
    assert not opening.exists()


def test_two_runs_never_settle_one_journal_together(tmp_path):
    journal = Journal(tmp_path, "local")
    journal.claimed(["a"])
    journal.close()
    with dead_journals(tmp_path, "local") as first, dead_journals(tmp_path, "local") as second:
        assert len(first) == 1 and second == []


def test_a_journal_is_only_applied_to_its_own_ledger(tmp_path):
    SqliteLedger(tmp_path / "ledger.sqlite").claim([row("a")])
    other = Journal(tmp_path, "cae-airtable-appOTHER")
    other.claimed(["a"])
    other.close()
    store = ledger(tmp_path)
    assert settle_journals(store, tmp_path) == {}
    assert statuses(store) == {"a": "pending"} and len(journals(tmp_path)) == 1


def test_an_accepted_letter_wins_and_otherwise_the_latest_journal_speaks(tmp_path):
    store = ledger(tmp_path)
    store.claim([row("a"), row("b")])
    older = Journal(tmp_path, "local")
    older.answer("a", "sent")
    older.answer("b", "sent")
    time.sleep(1.1)  # the files are named after the second they were opened
    newer = Journal(tmp_path, "local")
    newer.answer("a", "failed")
    newer.claimed(["b"])  # claimed, never attempted: would release b, but b went out
    older.close()
    newer.close()
    assert settle_journals(store, tmp_path) == {SENT: 2}
    assert statuses(store) == {"a": "sent", "b": "sent"}


def test_a_store_that_sees_part_of_the_ledger_keeps_the_lines_about_the_rest(tmp_path):
    journal = Journal(tmp_path, "local")
    journal.claimed(["seen", "unseen"])
    journal.attempting("unseen")
    journal.answer("unseen", "sent")
    journal.close()
    with dead_journals(tmp_path, "local") as (dead,):
        dead.keep_only({"unseen"})
    (path,) = journals(tmp_path)
    entries = parse(path.read_text("utf-8").splitlines())
    assert entries.ledger == "local"
    assert entries.claimed == {"unseen"} and entries.answers == {"unseen": ("sent", None)}
    with dead_journals(tmp_path, "local") as (dead,):
        dead.keep_only(set())
    assert journals(tmp_path) == []


@pytest.mark.parametrize(
    ("serialised", "expected"), [(True, Decision(RELEASED)), (False, None)], ids=["remote", "local"]
)
def test_an_unconfirmed_claim_counts_only_where_runs_never_overlap(serialised, expected):
    entries = parse([json.dumps({"event": "claiming", "keys": ["a"]})])
    assert decide("a", entries, serialised) == expected


def test_a_run_without_journal_settles_nothing(tmp_path):
    Journal(tmp_path, "local").claimed(["a"])
    store = SqliteLedger(tmp_path / "ledger.sqlite")  # Journal(None): a ledger opened by hand
    assert settle_journals(store, tmp_path) == {}


def test_the_journal_does_not_leave_its_process(tmp_path):
    with pytest.raises(TypeError):
        pickle.dumps(Journal(tmp_path, "local"))
    assert os.listdir(tmp_path) == []


def test_a_historical_claim_is_nothing_to_send(tmp_path):
    store = ledger(tmp_path)
    old = LedgerRow(key="old", kind="renewal", status=LedgerStatus.HISTORICAL, issued_on=AS_OF)
    assert store.claim([old, row("new")]) == ["old", "new"]
    (path,) = journals(tmp_path)
    assert parse(path.read_text("utf-8").splitlines()).claimed == {"new"}
    store.journal.attempting("new")
    store.journal.answer("new", "sent")
    store.journal.settled()  # nothing left to send: the journal is gone
    assert journals(tmp_path) == []


def test_claims_and_deliveries_in_two_threads_write_one_whole_journal(tmp_path):
    journal = Journal(tmp_path, "local")
    keys = [f"k{i}" for i in range(200)]

    def claim() -> None:
        for key in keys:
            journal.claimed([key])

    def deliver() -> None:
        for key in keys:
            journal.answer(key, "sent")

    workers = [threading.Thread(target=claim), threading.Thread(target=deliver)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    (path,) = journals(tmp_path)
    entries = parse(path.read_text("utf-8").splitlines())
    assert len(entries.lines) == 1 + 2 * len(keys)
    assert entries.claimed == set(keys) == set(entries.answers)
