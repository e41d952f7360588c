"""Defaults of a run: the bundled example cooperative and today's date in Paris."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

#: The letterhead of a ``cae.toml`` without ``[cooperative] name``: fine for the out folder,
#: never for mail to real members (``settings.config.missing_identity``).
PLACEHOLDER_NAME = "Coopérative No-Code"
#: The sender of a letter when ``[cooperative] email`` is not set (out folder only).
PLACEHOLDER_SENDER = "cooperative@example.invalid"

#: The folder of the ``cae`` package, which ships the example cooperative as package data.
_CAE_DIR = Path(__file__).resolve().parent.parent / "cae"
#: The example cooperative shipped with the package (see ``cae/example/README.md``).
EXAMPLE_DIR = _CAE_DIR / "example"
#: The same cooperative a month later, as the staff updated it: one mission's costs went up,
#: another was cancelled.
EXAMPLE_LATER_DIR = _CAE_DIR / "example-december"


def paris_today() -> date:
    """Charter dates are calendar dates in Europe/Paris."""
    return datetime.now(PARIS).date()


#: Where a run reads its records: a folder of CSV files, an Airtable base or Notion databases.
SOURCES = ("local", "airtable", "notion")


def given_folder(source: str, data: str | None) -> Path:
    """The folder a run on ``source`` reads, whether or not it exists: ``data``, else the
    example cooperative (``local``) or the current folder (``airtable``, ``notion``)."""
    return Path(data) if data else (EXAMPLE_DIR if source == "local" else Path.cwd())


def data_folder(source: str, data: str | None) -> Path:
    """The folder a run reads: ``data``, else the example cooperative (``local``) or the
    current folder, which holds ``cae.toml`` (``airtable``, ``notion``). Raises ``ValueError``
    for an unknown source and ``FileNotFoundError`` when the folder does not exist."""
    if source not in SOURCES:
        raise ValueError(f"Source inconnue : {source} (possibles : {', '.join(SOURCES)})")
    folder = given_folder(source, data)
    if not folder.is_dir():
        raise FileNotFoundError(f"Dossier de données introuvable : {folder}")
    return folder
