"""Two daily runs started at the same moment on the same source issue each document once.

Real ``cae run`` processes, started together, against one Prefect server, one SMTP server and
(for Airtable) one emulated base. On Airtable, which has no conditional write, the runs are
serialised by the Prefect concurrency limit of the base; the local SQLite ledger's claim is a
transaction and needs no limit (its process-level race is in tests/integration/test_ledger.py).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from charter.model import LedgerStatus
from emulators.airtable import AirtableEmulator
from integrations.ledger import SqliteLedger
from settings.defaults import EXAMPLE_DIR
from tests.support.airtable_example import BASE, LEDGER_TABLES, build_example_base, environment
from tests.support.example_runs import RUN_1
from tests.support.smtp_server import SmtpServer

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

EXPECTED = len(RUN_1["documents"])


def start_together(commands: list[list[str]], env: dict[str, str]) -> list[str]:
    """Start every command at once; return each one's stdout once all have finished."""
    processes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for command in commands
    ]
    outputs = []
    for process in processes:
        stdout, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr[-3000:]
        outputs.append(stdout)
    return outputs


def issued(stdout: str) -> int:
    """The number of documents a ``cae run`` says it issued (``… : N document(s) émis``)."""
    return int(stdout.split(" document(s) émis")[0].rsplit(" ", 1)[-1])


def base_env(smtp: SmtpServer) -> dict[str, str]:
    from prefect.settings import PREFECT_API_URL

    return {
        **os.environ,
        **smtp.environment(),
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }


#: The example's cae.toml: the letters go out by email, so they need the cooperative's identity.
IDENTITY = ("--config", str(EXAMPLE_DIR / "cae.toml"))


def cae_run(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "cae.cli", "run", "--as-of", "2026-11-26", *arguments]


def test_two_local_runs_at_once_send_each_document_once(tmp_path: Path):
    out = tmp_path / "out"
    with SmtpServer() as smtp:
        command = cae_run("--data", str(EXAMPLE_DIR), "--out", str(out))
        outputs = start_together([command, command], base_env(smtp))
        per_key = smtp.recorder.per_key()
    assert len(per_key) == EXPECTED
    assert set(per_key.values()) == {1}, [k for k, n in per_key.items() if n > 1]
    assert sum(issued(o) for o in outputs) == EXPECTED
    rows = SqliteLedger(out / "ledger.sqlite").rows()
    assert len(rows) == EXPECTED
    assert {row.key for row in rows if row.status is LedgerStatus.SENT} == set(per_key)


def test_two_airtable_runs_at_once_are_serialised_and_send_each_document_once(tmp_path: Path):
    from prefect import get_client

    with (
        AirtableEmulator("patCAETEST", BASE, penalty_seconds=0.5) as emulator,
        SmtpServer() as smtp,
    ):
        env = {**base_env(smtp), **environment(emulator)}
        build_example_base(emulator)
        command = cae_run("--source", "airtable", "--out", str(tmp_path / "out"), *IDENTITY)
        outputs = start_together([command, command], env)
        per_key = smtp.recorder.per_key()
        requests = emulator.requests
        rows = [r for table in LEDGER_TABLES for r in emulator.records(table)]
        statuses = Counter(r["fields"]["Statut"] for r in rows)

    assert len(per_key) == EXPECTED and set(per_key.values()) == {1}
    assert sorted(issued(o) for o in outputs) == [0, EXPECTED]
    keys = [r["fields"]["Clé"] for r in rows]
    assert len(keys) == len(set(keys)) == EXPECTED
    assert statuses == {"sent": EXPECTED}

    # One run at a time: the second run's first read comes after the first run's last write.
    members_reads = [
        i for i, r in enumerate(requests) if r.table == "Membres" and r.operation == "list"
    ]
    writes = [i for i, r in enumerate(requests) if r.operation != "list"]
    assert len(members_reads) == 2, [(r.operation, r.table) for r in requests]
    assert writes and max(writes) < members_reads[1]

    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(f"cae-airtable-{BASE}")
    assert limit.limit == 1 and limit.active_slots == 0


HOLD_THE_SLOT = """
import sys, time
from prefect.concurrency.sync import concurrency
from flows.locks import ensure_limit
ensure_limit(sys.argv[1])
with concurrency(sys.argv[1], occupy=1, strict=True, lease_duration=300):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_killed_run_holds_its_base_until_cae_unlock(tmp_path: Path):
    """A run killed outright keeps its slot: the next run waits, then says how to free it;
    ``cae unlock`` frees it and the run goes through."""
    base = "appUNLOCKTEST"  # its own limit: the killed holder's lease lapses later, harmlessly
    with (
        AirtableEmulator("patCAETEST", base, penalty_seconds=0.5) as emulator,
        SmtpServer() as smtp,
    ):
        env = {**base_env(smtp), **environment(emulator, base), "CAE_SOURCE_WAIT_SECONDS": "2"}
        build_example_base(emulator, base)
        holder = subprocess.Popen(
            [sys.executable, "-c", HOLD_THE_SLOT, f"cae-airtable-{base}"],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        finally:
            holder.kill()
            holder.wait(timeout=30)

        command = cae_run("--source", "airtable", "--out", str(tmp_path / "out"), *IDENTITY)
        blocked = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert blocked.returncode == 1
        assert "Une autre exécution occupe la source (cae-airtable-appUNLOCKTEST)" in blocked.stderr
        assert "cae unlock" in blocked.stderr
        # Before it had the base to itself it read nothing: it only checked its token (whoami),
        # before Prefect started.
        assert [r.operation for r in emulator.requests] == ["whoami"]

        unlock = [sys.executable, "-m", "cae.cli", "unlock", "--source", "airtable"]
        freed = subprocess.run(unlock, env=env, capture_output=True, text=True, timeout=120)
        assert freed.returncode == 0, freed.stderr
        assert "cae-airtable-appUNLOCKTEST : 1 place(s) libérée(s)." in freed.stdout

        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert issued(done.stdout) == EXPECTED
        assert len(smtp.recorder.per_key()) == EXPECTED
