"""The example cooperative on the Notion emulator: its token, settings and workspace.

``build_workspace`` does what ``cae notion init --parent … --with-example`` does and returns a
``Workspace`` that reads the databases back; ``environment`` is what a run needs to reach the
emulator.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from emulators.notion import NotionEmulator
from integrations.notion import NotionClient, NotionSettings
from integrations.notion_init import InitReport, init_workspace
from integrations.notion_properties import page_title, plain_value
from settings.config import Config
from settings.defaults import EXAMPLE_DIR
from tests.support.airtable_example import LEDGER_TABLES

TOKEN = "secret_CAETEST"
FAST = {"CAE_NOTION_RATE": "1000"}  # for setup and where the count, not the pace, is tested


def environment(emulator: NotionEmulator) -> dict[str, str]:
    return {"NOTION_TOKEN": TOKEN, "NOTION_BASE_URL": emulator.url}


@dataclass
class Workspace:
    emulator: NotionEmulator
    report: InitReport
    config: Path  # the example's cae.toml with the ids init printed

    def pages(self, key: str) -> list[dict[str, Any]]:
        return self.emulator.pages(self.report.data_sources[key])

    def ledger(self) -> dict[str, list[dict[str, Any]]]:
        """Versements and Courriers, each page's properties as plain values."""
        return {
            label: [
                {name: plain_value(p) for name, p in page["properties"].items()}
                for page in self.pages(key)
            ]
            for label, key in zip(LEDGER_TABLES, ("payouts", "letters"), strict=True)
        }

    def named(self, summary: dict) -> dict:
        """The summary with page ids in keys replaced by the pages' titles, as in a CSV run."""
        names = {p["id"]: page_title(p) for key in ("members", "missions") for p in self.pages(key)}
        documents = [
            {**d, "key": ":".join(names.get(part, part) for part in d["key"].split(":"))}
            for d in summary["documents"]
        ]
        return {**summary, "documents": documents}

    def page_id(self, key: str, title: str) -> str:
        (found,) = [p["id"] for p in self.pages(key) if page_title(p) == title]
        return found


def build_workspace(
    emulator: NotionEmulator, folder: Path, example: Path | None = EXAMPLE_DIR
) -> Workspace:
    """What ``cae notion init --parent … --with-example`` does, with the rate limit lifted for
    speed; ``cae.toml`` is the example's own plus the ids init prints."""
    parent = emulator.create_page_parent("Coopérative")
    rate, emulator.rate = emulator.rate, None
    settings = NotionSettings.from_environment({}, env={**environment(emulator), **FAST})
    report = init_workspace(NotionClient(settings), Config().schema, parent, example)
    emulator.rate = rate
    emulator.reset_rate_limit()
    emulator.reset_counts()
    config = folder / "cae.toml"
    config.write_text((EXAMPLE_DIR / "cae.toml").read_text("utf-8") + "\n" + report.toml())
    return Workspace(emulator, report, config)
