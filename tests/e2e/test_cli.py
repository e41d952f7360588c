"""``cae run`` and ``cae report`` as the staff run them: real processes, talking to the
session's Prefect server.

Each run is a new Python process (a few seconds): the example twice (quiet, then
``--verbose``), a targeted run on a mission and one on a member, the month's report, and three
the command line refuses before Prefect starts (``tests/integration/test_cli_refusals.py``
has every refusal).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from settings.defaults import EXAMPLE_DIR
from tests.support.example_runs import MISSION

EXPECTED = json.loads((Path(__file__).parent / "expected_example.json").read_text("utf-8"))
FIRST_RUN = EXPECTED["runs"][0]
pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def env(prefect_server: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The harness's server for the child process, so it does not start a server of its own."""
    from prefect.settings import PREFECT_API_URL

    return {
        **os.environ,
        "PREFECT_API_URL": str(PREFECT_API_URL.value()),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_HOME": str(tmp_path_factory.mktemp("prefect-home")),
    }


def cae(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cae.cli", *map(str, args)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def read_summary(out: Path) -> dict | None:
    path = out / "run-summary.json"
    return json.loads(path.read_text("utf-8")) if path.is_file() else None


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("cli") / "data"
    shutil.copytree(EXAMPLE_DIR, data)
    return data


@pytest.fixture(scope="module")
def runs(env: dict[str, str], example: Path) -> dict:
    """The example run from the command line on 2026-11-26, then once more the same day."""
    out = example.parent / "out"
    first = cae(env, "run", "--data", example, "--as-of", "2026-11-26", "--out", out)
    first_summary = read_summary(out)
    again = cae(env, "run", "--data", example, "--as-of", "2026-11-26", "--out", out, "--verbose")
    again_summary = read_summary(out)
    return {
        "first": first,
        "first_summary": first_summary,
        "again": again,
        "again_summary": again_summary,
        "out": out,
    }


def test_a_run_completes_with_exit_status_0(runs: dict) -> None:
    assert runs["first"].returncode == 0, runs["first"].stderr


def test_a_run_writes_the_summary_of_the_documents_it_issued(runs: dict) -> None:
    summary = runs["first_summary"]
    assert summary is not None
    assert summary["as_of"] == "2026-11-26"
    assert len(summary["documents"]) == 22
    assert {d["key"] for d in summary["documents"]} == {d["key"] for d in FIRST_RUN["documents"]}
    assert "2026-11-26 : 22 document(s) émis" in runs["first"].stdout


def test_a_run_keeps_its_ledger_in_the_out_folder(runs: dict) -> None:
    assert (runs["out"] / "ledger.sqlite").is_file()


def test_both_runs_are_recorded_by_the_sessions_prefect_server(runs: dict) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        named = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["daily-2026-11-26"]))
        )
    ours = [r for r in named if r.parameters.get("out") == str(runs["out"])]
    assert len(ours) == 2
    assert all(r.state is not None and r.state.is_completed() for r in ours)


def test_running_again_the_same_day_issues_nothing(runs: dict) -> None:
    assert runs["again"].returncode == 0, runs["again"].stderr
    assert runs["again_summary"] is not None
    assert runs["again_summary"]["as_of"] == "2026-11-26"
    assert runs["again_summary"]["documents"] == []
    assert "2026-11-26 : 0 document(s) émis" in runs["again"].stdout


def test_a_run_prints_its_steps_and_its_result_not_prefects_log(runs: dict) -> None:
    first = runs["first"]
    assert first.stdout.splitlines()[:3] == [
        "Démarrage de Prefect…",
        "  · Lecture des fiches",
        "  · Lecture du registre",
    ]
    assert "  · Envoi des courriers" in first.stdout.splitlines()
    assert first.stderr == ""
    assert "| INFO" not in first.stdout


def test_verbose_shows_prefects_log(runs: dict) -> None:
    assert "Finished in state Completed()" in runs["again"].stderr
    assert "| INFO    | Flow run 'daily-2026-11-26'" in runs["again"].stderr


def test_the_quiet_runs_log_still_reaches_the_prefect_server(runs: dict) -> None:
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterName,
        LogFilter,
        LogFilterFlowRunId,
    )

    with get_client(sync_client=True) as client:
        named = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=["daily-2026-11-26"]))
        )
        ours = [r for r in named if r.parameters.get("out") == str(runs["out"])]
        first = min(ours, key=lambda r: r.start_time)
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[first.id])))
    messages = [log.message for log in logs]
    assert any("18 membres, 20 missions lus" in m for m in messages), messages
    assert any("Finished in state Completed()" in m for m in messages), messages


def test_a_targeted_run_on_a_mission_from_the_command_line(
    env: dict[str, str], example: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = cae(env, "run", "--data", example, "--as-of", "2026-11-26", "--out", out,
                 "--mission", MISSION)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "2026-11-26 : 1 document(s) émis, 0 alerte(s), 0 erreur(s) de données."
    ), result.stdout
    assert not (out / "run-summary.json").exists()  # a targeted run leaves the daily's alone
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName

    with get_client(sync_client=True) as client:
        named = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(name=FlowRunFilterName(any_=[f"mission-{MISSION}"]))
        )
    assert [r.parameters["out"] for r in named if r.parameters["out"] == str(out)] == [str(out)]


def test_a_targeted_run_on_a_member_from_the_command_line(
    env: dict[str, str], example: Path, tmp_path: Path
) -> None:
    expected = [d for d in FIRST_RUN["documents"] if d["member"] == "Julien Perrot"]
    result = cae(env, "run", "--data", example, "--as-of", "2026-11-26", "--out",
                 tmp_path / "out", "--member", "Julien Perrot")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert f"2026-11-26 : {len(expected)} document(s) émis" in result.stdout


def test_the_monthly_report_from_the_command_line(
    env: dict[str, str], runs: dict, example: Path
) -> None:
    payouts = [d for d in FIRST_RUN["documents"] if d["kind"].startswith("payout")]
    result = cae(env, "report", "--month", "2026-11", "--data", example, "--out", runs["out"])
    assert result.returncode == 0, result.stderr
    assert "  · Calcul du rapport mensuel" in result.stdout.splitlines()
    last = result.stdout.splitlines()[-1]
    assert last.startswith("Rapport mensuel 2026-11 : 0 relevé(s) de contribution (0,00\u00a0€), ")
    assert f", {len(payouts)} commission(s) (" in last
    assert last.endswith(f"PDF : {runs['out'] / 'reports' / 'rapport-2026-11.pdf'}")
    assert (runs["out"] / "reports" / "rapport-2026-11.pdf").is_file()


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing data folder", "Dossier de données introuvable : {tmp}/absent"),
        ("as-of not a date", "date AAAA-MM-JJ attendue, pas '26/11/2026'"),
        ("unknown charter key", "Paramètre inconnu dans [charter] : contribution_rat"),
    ],
)
def test_a_wrong_command_fails_with_a_french_message_and_writes_nothing(
    env: dict[str, str], example: Path, tmp_path: Path, case: str, message: str
) -> None:
    config = tmp_path / "cae.toml"
    config.write_text("[charter]\ncontribution_rat = 0.12\n", encoding="utf-8")
    args = {
        "missing data folder": ["--data", tmp_path / "absent", "--as-of", "2026-11-26"],
        "as-of not a date": ["--as-of", "26/11/2026"],
        "unknown charter key": ["--data", example, "--as-of", "2026-11-26", "--config", config],
    }[case]
    result = cae(env, "run", *args, "--out", tmp_path / "out")
    assert result.returncode == 2
    assert message.format(tmp=tmp_path) in result.stderr
    assert not (tmp_path / "out").exists()


def test_preview_prints_the_run_line_and_leaves_no_ledger(
    env: dict[str, str], example: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    result = cae(env, "run", "--data", example, "--as-of", "2026-11-26", "--out", out, "--preview")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == [  # after the steps
        "2026-11-26 : 22 document(s) émis, 7 alerte(s), 4 erreur(s) de données. "
        f"Résumé : {out / 'apercu' / 'run-summary.json'}",
        f"Aperçu : rien n'a été envoyé ni réservé ; les documents sont dans {out / 'apercu'}.",
    ]
    assert read_summary(out / "apercu")["preview"] is True  # type: ignore[index]
    assert sorted(p.name for p in out.iterdir()) == ["apercu"]
