"""What ``cae run`` sets in Prefect before importing it, and what its terminal shows."""

from __future__ import annotations

import io

from rich.console import Console

from cae.terminal import (
    BAR_FROM,
    CONSOLE_LEVEL,
    FIRST_START_SECONDS,
    STARTUP_TIMEOUT,
    Terminal,
    prepare_prefect,
    user_setting,
)
from services import progress


def test_the_temporary_server_gets_time_for_a_first_start(tmp_path):
    env = {"PREFECT_HOME": str(tmp_path)}  # no profiles.toml there: a fresh machine
    prepare_prefect(verbose=False, env=env)
    assert env[STARTUP_TIMEOUT] == str(FIRST_START_SECONDS)
    assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert env["DO_NOT_TRACK"] == "1"  # nor Prefect's client, which would say so in a terminal


def test_a_startup_timeout_the_user_set_in_the_environment_is_kept(tmp_path):
    env = {"PREFECT_HOME": str(tmp_path), STARTUP_TIMEOUT: "45"}
    prepare_prefect(verbose=False, env=env)
    assert env[STARTUP_TIMEOUT] == "45"


def test_a_startup_timeout_the_user_set_in_the_active_profile_is_kept(tmp_path):
    (tmp_path / "profiles.toml").write_text(
        f'active = "mine"\n\n[profiles.ephemeral]\n\n[profiles.mine]\n{STARTUP_TIMEOUT} = "300"\n',
        encoding="utf-8",
    )
    env = {"PREFECT_HOME": str(tmp_path)}
    assert user_setting(STARTUP_TIMEOUT, env) == "300"
    prepare_prefect(verbose=False, env=env)
    assert STARTUP_TIMEOUT not in env  # Prefect reads the profile's value itself

    # Another profile's value does not count, and PREFECT_PROFILE chooses the profile.
    env = {"PREFECT_HOME": str(tmp_path), "PREFECT_PROFILE": "ephemeral"}
    assert user_setting(STARTUP_TIMEOUT, env) is None
    prepare_prefect(verbose=False, env=env)
    assert env[STARTUP_TIMEOUT] == str(FIRST_START_SECONDS)


def test_prefects_console_shows_only_errors_unless_verbose(tmp_path):
    quiet = {"PREFECT_HOME": str(tmp_path)}
    prepare_prefect(verbose=False, env=quiet)
    assert quiet[CONSOLE_LEVEL] == "ERROR"
    verbose = {"PREFECT_HOME": str(tmp_path)}
    prepare_prefect(verbose=True, env=verbose)
    assert CONSOLE_LEVEL not in verbose
    chosen = {"PREFECT_HOME": str(tmp_path), CONSOLE_LEVEL: "WARNING"}
    prepare_prefect(verbose=False, env=chosen)
    assert chosen[CONSOLE_LEVEL] == "WARNING"


def terminal(is_terminal: bool) -> tuple[Terminal, io.StringIO]:
    out = io.StringIO()
    console = Console(file=out, force_terminal=is_terminal, width=100, color_system=None)
    return Terminal(console), out


def run_batch(watcher: Terminal, size: int) -> None:
    with progress.watching(watcher):
        progress.step("render-documents")
        progress.step("a-task-of-no-interest")
        with progress.batch("Mise en page", size) as done:
            for _ in range(size):
                done()


def test_each_step_is_one_line_in_french():
    watcher, out = terminal(is_terminal=False)
    run_batch(watcher, 3)
    assert out.getvalue() == "  · Mise en page des courriers\n"


def test_a_long_batch_shows_a_progress_bar_in_a_terminal():
    watcher, out = terminal(is_terminal=True)
    run_batch(watcher, BAR_FROM + 1)
    shown = out.getvalue()
    assert "Mise en page des courriers" in shown
    assert f"/{BAR_FROM + 1}" in shown  # "12/51": the bar's count
    assert "━" in shown


def test_a_short_batch_or_a_pipe_shows_no_bar():
    for is_terminal, size in ((True, BAR_FROM), (False, BAR_FROM * 3)):
        watcher, out = terminal(is_terminal)
        run_batch(watcher, size)
        assert out.getvalue() == "  · Mise en page des courriers\n", (is_terminal, size)


def test_no_watcher_no_output(capsys):
    with progress.batch("Envoi", 100) as done:
        done()
    progress.step("render-documents")
    assert capsys.readouterr() == ("", "")
