"""A command the program cannot run is refused before Prefect starts: one French line on stderr,
exit status 2, no traceback, and Prefect not even imported (so no server started).

Each case is a real process running ``cae.cli.main``; it prints afterwards whether Prefect was
imported.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from settings.defaults import EXAMPLE_DIR

#: ``cae …`` in a fresh interpreter, then whether ``prefect`` was imported, on stdout.
SCRIPT = """
import sys
from cae import cli
try:
    status = cli.main(sys.argv[1:])
except SystemExit as refused:
    status = refused.code
print("prefect imported:", "prefect" in sys.modules)
sys.exit(status)
"""

#: The variables that would give a run a source's settings: none of them here.
SOURCE_VARIABLES = ("AIRTABLE_", "NOTION_", "CAE_AIRTABLE_", "CAE_NOTION_")


def cae(*args: str | Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(SOURCE_VARIABLES)}
    return subprocess.run(
        [sys.executable, "-c", SCRIPT, *map(str, args)],
        env={**env, **extra},
        capture_output=True,
        text=True,
        timeout=60,
    )


def config_file(tmp_path: Path, text: str | bytes) -> Path:
    path = tmp_path / "cae.toml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


AIRTABLE = '[airtable]\nbase_id = "appXXXXXXXXXXXXXX"\n'
LATIN_1 = "[cooperative]\nname = 'Coop é'\n".encode("latin-1")

CASES = {
    "missing data folder": (
        lambda tmp: ["run", "--data", tmp / "absent"],
        "cae run : Dossier de données introuvable : ",
    ),
    "missing cae.toml": (
        lambda tmp: ["run", "--config", tmp / "absent.toml"],
        "cae run : Fichier de configuration introuvable : ",
    ),
    "cae.toml not in UTF-8": (
        lambda tmp: ["run", "--config", config_file(tmp, LATIN_1)],
        "fichier illisible, il n'est pas en UTF-8",
    ),
    "cae.toml not TOML": (
        lambda tmp: ["run", "--config", config_file(tmp, "[charter\n")],
        "fichier TOML illisible (ligne 1, colonne 9)",
    ),
    "cae.toml with an unknown key": (
        lambda tmp: [
            "report",
            "--config",
            config_file(tmp, "[charter]\ncontribution_rat = 0.12\n"),
        ],
        "cae report : Paramètre inconnu dans [charter] : contribution_rat",
    ),
    "unknown source": (
        lambda tmp: ["run", "--source", "csv"],
        "option --source : choix impossible : 'csv' (possibles : 'local', 'airtable', 'notion')",
    ),
    "Airtable without base id": (
        lambda tmp: ["run", "--source", "airtable", "--data", tmp],
        "cae run : Base Airtable inconnue : définissez AIRTABLE_BASE_ID ou [airtable] base_id.",
    ),
    "Airtable without token": (
        lambda tmp: ["run", "--source", "airtable", "--config", config_file(tmp, AIRTABLE)],
        "cae run : Jeton Airtable absent : définissez AIRTABLE_TOKEN",
    ),
    "Notion without token": (
        lambda tmp: ["run", "--source", "notion", "--data", tmp],
        "cae run : Jeton Notion absent : définissez NOTION_TOKEN",
    ),
    "as-of not a date": (
        lambda tmp: ["run", "--as-of", "26/11/2026"],
        "cae run : option --as-of : date AAAA-MM-JJ attendue, pas '26/11/2026'",
    ),
    "month not a month": (
        lambda tmp: ["report", "--month", "2026-13"],
        "cae report : option --month : mois AAAA-MM attendu, pas '2026-13'",
    ),
    "both targets": (
        lambda tmp: ["run", "--mission", "M", "--member", "P"],
        "cae run : option --member : incompatible avec --mission",
    ),
    "unknown option": (
        lambda tmp: ["run", "--as_of", "2026-11-26"],
        "cae : arguments inconnus : --as_of",
    ),
    "unknown command": (
        lambda tmp: ["rnu"],
        "cae : commande : choix impossible : 'rnu' (possibles : 'run', 'report'",
    ),
    "no command": (lambda tmp: [], "cae : il manque : commande"),
    "report sends no mail": (
        lambda tmp: ["report", "--smtp-block", "smtp"],
        "cae : arguments inconnus : --smtp-block smtp",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_wrong_command_is_refused_in_one_french_line_without_prefect(case, tmp_path):
    arguments, expected = CASES[case]
    result = cae(*arguments(tmp_path))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # one line, and no traceback
    assert expected in result.stderr
    assert "Traceback" not in result.stderr and "error:" not in result.stderr
    assert result.stdout == "prefect imported: False\n"


def test_notion_needs_the_ledgers_databases(tmp_path):
    config = config_file(tmp_path, '[notion.databases]\nmembers = "abc"\nmissions = "def"\n')
    result = cae("run", "--source", "notion", "--data", tmp_path, "--config", config,
                 NOTION_TOKEN="secret_x")  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert "Bases Notion non indiquées dans [notion.databases] de cae.toml" in result.stderr
    assert "Versements (payouts), Courriers (letters)" in result.stderr
    assert "Membres (members)" not in result.stderr
    assert "secret_x" not in result.stderr
    assert result.stdout == "prefect imported: False\n"


def test_a_token_block_is_taken_on_trust_before_prefect_starts(tmp_path):
    """Reading a Secret block needs Prefect: the run checks it, not the command line."""
    from cae.preflight import check_run

    env = {"AIRTABLE_BASE_ID": "appX", "CAE_AIRTABLE_TOKEN_BLOCK": "airtable-token"}
    config = check_run("airtable", str(tmp_path), None, env)
    assert config.path is None  # the folder has no cae.toml: the defaults
    assert check_run("local", str(EXAMPLE_DIR), None, {}).path == EXAMPLE_DIR / "cae.toml"
