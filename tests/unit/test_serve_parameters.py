"""What ``cae serve`` hands every run it serves: its own configuration, as absolute paths; and
how often its runner looks for new runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from cae.serve import POLL_SECONDS, POLL_SETTING, Served, poll_seconds
from settings.config import ConfigError
from settings.defaults import EXAMPLE_DIR


def test_relative_paths_are_made_absolute_from_where_serve_started(tmp_path: Path):
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "cae.toml").write_text("", encoding="utf-8")
    (tmp_path / "work").mkdir()
    served = Served.resolve(
        "airtable", None, "out", "../conf/cae.toml", "cae-smtp", cwd=tmp_path / "work"
    )
    assert served.run_parameters() == {
        "source": "airtable",
        "data": None,
        "out": str((tmp_path / "work" / "out").resolve()),
        "config": str((tmp_path / "conf" / "cae.toml").resolve()),
        "smtp_block": "cae-smtp",
    }
    assert "smtp_block" not in served.run_parameters(sends=False)


def test_without_config_the_runs_read_the_file_serve_found(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("CAE_SMTP_BLOCK", "from-env")
    (tmp_path / "cae.toml").write_text("", encoding="utf-8")
    here = Served.resolve("notion", None, "out", None, cwd=tmp_path)
    assert (here.config, here.smtp_block) == (str((tmp_path / "cae.toml").resolve()), "from-env")
    data = Served.resolve("local", "data", "out", None, cwd=tmp_path)
    assert (data.data, data.config) == (str((tmp_path / "data").resolve()), None)
    example = Served.resolve("local", None, "out", None, cwd=tmp_path)
    assert example.config == str((EXAMPLE_DIR / "cae.toml").resolve())


def test_a_missing_config_file_stops_serve(tmp_path: Path):
    with pytest.raises(ConfigError, match="introuvable"):
        Served.resolve("airtable", None, "out", "nowhere.toml", cwd=tmp_path)


def test_the_runner_polls_every_second_unless_the_user_chose(tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path))  # no profiles.toml there
    monkeypatch.delenv("PREFECT_PROFILES_PATH", raising=False)
    monkeypatch.delenv("PREFECT_PROFILE", raising=False)
    monkeypatch.delenv(POLL_SETTING, raising=False)
    assert poll_seconds() == POLL_SECONDS == 1.0
    (tmp_path / "profiles.toml").write_text(
        f'active = "prod"\n[profiles.prod]\n{POLL_SETTING} = "5"\n', encoding="utf-8"
    )
    assert poll_seconds() is None  # Prefect's setting: the profile's 5 s
    (tmp_path / "profiles.toml").unlink()
    monkeypatch.setenv(POLL_SETTING, "3")
    assert poll_seconds() is None
