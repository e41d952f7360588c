"""The example cooperative on the Airtable emulator: its token and base, tables, settings.

``build_example_base`` does what ``cae airtable init --with-example`` does; ``environment`` is
what a run needs to reach the emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

import pytest

from emulators.airtable import AirtableEmulator
from integrations.airtable import AirtableClient, AirtableSettings
from integrations.airtable_init import init_base
from settings.config import Config
from settings.defaults import EXAMPLE_DIR

TOKEN, BASE = "patCAETEST", "appCAETEST"
PENALTY = 0.5  # seconds: the emulator's penalty and the client's wait, shortened together
INPUT_TABLES = [
    "Membres",
    "Missions",
    "Factures",
    "Plénières",
    "Présences",
    "Bénévolat",
    "Ateliers",
]
LEDGER_TABLES = ["Versements", "Courriers"]
PAYOUTS = {"payout_mid", "payout_delivery"}


def environment(emulator: AirtableEmulator, base: str = BASE) -> dict[str, str]:
    return {
        "AIRTABLE_TOKEN": TOKEN,
        "AIRTABLE_BASE_ID": base,
        "AIRTABLE_ENDPOINT_URL": emulator.url,
        "CAE_AIRTABLE_PENALTY_SECONDS": str(PENALTY),
    }


def build_example_base(emulator: AirtableEmulator, base: str = BASE) -> None:
    """What ``cae airtable init --with-example`` does, with the rate limit lifted for speed."""
    settings = AirtableSettings.from_environment(env=environment(emulator, base))
    limit, emulator.rate_limit = emulator.rate_limit, None
    init_base(
        AirtableClient(replace(settings, requests_per_second=1000)), Config().schema, EXAMPLE_DIR
    )
    emulator.rate_limit = limit
    emulator.reset_counts()


def named(summary: dict, emulator: AirtableEmulator) -> dict:
    """The summary with record ids in keys replaced by the records' names, as in a CSV run."""
    names = {}
    for table, primary in (("Membres", "Nom"), ("Missions", "Mission")):
        names.update({r["id"]: r["fields"][primary] for r in emulator.records(table)})
    documents = [
        {**d, "key": ":".join(names.get(part, part) for part in d["key"].split(":"))}
        for d in summary["documents"]
    ]
    return {**summary, "documents": documents}


@contextmanager
def example_base(penalty: float = PENALTY) -> Iterator[AirtableEmulator]:
    """The example base on a running emulator whose rate-limit penalty is ``penalty`` seconds
    (the client's wait too), with the environment a run needs to reach it."""
    with (
        AirtableEmulator(TOKEN, BASE, penalty_seconds=penalty) as emulator,
        pytest.MonkeyPatch.context() as patch,
    ):
        env = {**environment(emulator), "CAE_AIRTABLE_PENALTY_SECONDS": str(penalty)}
        for name, value in env.items():
            patch.setenv(name, value)
        build_example_base(emulator)
        yield emulator
