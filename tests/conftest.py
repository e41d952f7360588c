"""One real Prefect server for the whole test session (``prefect_test_harness``), for the tests
marked ``e2e`` only: ``make test-fast`` (``-m "not e2e"``) must never start it."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
# The budget shared across processes (integrations/shared_rate.py) costs a call to the Prefect
# server per Airtable or Notion request; each test has its own base, so only the test that
# checks the shared budget turns it on.
os.environ.setdefault("CAE_SHARED_RATE", "off")

# Prefect sets up its logging handlers when first imported, on the ``sys.stderr`` of that
# moment. Imported here, they write to the session's stream; imported inside a test that uses
# ``capsys`` (a command that loads Prefect), they would keep that test's stream, closed after
# it, and every later warning would print "--- Logging error ---" with a traceback.
import prefect.main  # noqa: E402, F401  (``prefect.main`` sets up Prefect's logging)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):
    """Start the harness once; results go to a temporary folder, no heartbeat thread."""
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_LOCAL_STORAGE_PATH,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    storage = tmp_path_factory.mktemp("prefect-storage")
    with (
        prefect_test_harness(server_startup_timeout=120),
        temporary_settings(
            {PREFECT_LOCAL_STORAGE_PATH: storage, PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
        ),
    ):
        yield


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Refuse a test that uses the Prefect server without the ``e2e`` mark."""
    unmarked = [
        item.nodeid
        for item in items
        if "prefect_server" in getattr(item, "fixturenames", ())
        and item.get_closest_marker("e2e") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            "these tests start the Prefect server but are not marked e2e: " + ", ".join(unmarked)
        )
