"""What ``cae run`` and ``cae report`` check before Prefect starts.

Starting Prefect (importing it, then its temporary server) takes seconds; a mistake in the
command, its folder, ``cae.toml`` or the environment is found in a fraction of one, and told in
one French line with exit status 2, the status of a command line the program refuses. The flows
check the same things again (``services.run_setup``): a deployment started from the UI has no
command line. Nothing here imports Prefect.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from integrations.environment import Environment
from integrations.ledger_fields import TABLE_KEYS as NOTION_LEDGER
from settings.config import Config
from settings.defaults import data_folder

#: The exit status of a command the program refuses, as argparse's.
USAGE = 2


class UsageError(Exception):
    """The command cannot run as given; the message is one line, in French, for the staff."""


def check_run(
    source: str, data: str | None, config_file: str | None, env: Mapping[str, str] | None = None
) -> Config:
    """The configuration of a run on ``source``, once its folder, ``cae.toml`` and the
    settings the source needs (base id, database ids, token) are known to be there."""
    try:
        folder = data_folder(source, data)
        config = Config.find(folder, Path(config_file) if config_file else None)
        if source == "airtable":
            Environment(env).airtable_base(config.airtable.get("base_id"))
            Environment(env).check_token("AIRTABLE", "Airtable")
        elif source == "notion":
            Environment(env).check_token("NOTION", "Notion")
            _check_notion_ids(config)
    except (ValueError, FileNotFoundError) as exc:  # ConfigError is a ValueError
        raise UsageError(str(exc)) from None
    return config


def _check_notion_ids(config: Config) -> None:
    """Every required table and the ledger's two have a database or a data source."""
    known = {**config.notion.get("databases", {}), **config.notion.get("data_sources", {})}
    needed = {spec.key: spec.label for spec in config.schema.tables.values() if spec.required}
    needed |= {key: label for label, key in NOTION_LEDGER.items()}
    missing = [f"{label} ({key})" for key, label in needed.items() if not known.get(key)]
    if missing:
        raise ValueError(
            f"Bases Notion non indiquées dans [notion.databases] de cae.toml : "
            f"{', '.join(missing)}. « cae notion init » les crée et donne leurs identifiants."
        )
