"""Which source a run reads, from its parameters: the data folder and ``cae.toml``, the client
of a remote source, and a check that Airtable or Notion accept its token.

Free of Prefect, so that ``cae run`` can tell a refused token in a second, before it imports
the flows and Prefect starts (``cae.cli``); ``services.run_setup`` builds the run from these.
"""

from __future__ import annotations

from pathlib import Path

from integrations.airtable import AirtableClient, AirtableSettings
from integrations.notion import NotionClient, NotionSettings
from settings.config import Config
from settings.defaults import data_folder


def find_config(source: str, data: str | None, config_file: str | None) -> tuple[Path, Config]:
    """The data folder (default: the bundled example for ``local``, else the current folder)
    and its ``cae.toml``, or ``config_file``."""
    folder = data_folder(source, data)
    return folder, Config.find(folder, Path(config_file) if config_file else None)


def source_client(source: str, config: Config) -> AirtableClient | NotionClient | None:
    """The client of a remote source (no request made yet); ``None`` for ``local``."""
    if source == "airtable":
        return AirtableClient(airtable_settings(config))
    if source == "notion":
        return NotionClient(NotionSettings.from_environment(config.notion))
    return None


def check_source(source: str, config: Config) -> None:
    """Before a run is started: Airtable or Notion accept the token of ``config``'s source
    (one request), else ``SourceRefused`` or the settings' French error."""
    client = source_client(source, config)
    if client is not None:
        client.check_token()


def airtable_settings(config: Config) -> AirtableSettings:
    """The base of ``AIRTABLE_BASE_ID`` or ``[airtable] base_id``, the token from its Secret
    block or the environment."""
    return AirtableSettings.from_environment(config.airtable.get("base_id"))
