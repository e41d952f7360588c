"""``cae serve`` in its own process, for the end-to-end tests that serve: the Airtable webhook
it listens for, the process itself, and waiting for what it does."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import requests

from cae.webhooks.airtable_registration import create_webhook, save_webhook_secret
from emulators.airtable import AirtableEmulator
from integrations.airtable import AirtableClient, AirtableSettings
from settings.config import Config
from tests.support.airtable_example import environment

T = TypeVar("T")


def wait_for(predicate: Callable[[], T], timeout: float = 240.0, every: float = 0.3) -> T:
    """``predicate()``'s first true value, polled every ``every`` second."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out")


def healthy(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200
    except requests.ConnectionError:
        return False


def register_webhook(emulator: AirtableEmulator, base: str, port: int, secret: Path) -> str:
    """What ``cae airtable webhook create`` does for the receiver on ``port``: the fields of
    Missions and Membres the rules read; the id and MAC secret saved to the file ``secret``."""
    client = AirtableClient(AirtableSettings.from_environment(env=environment(emulator, base)))
    schema = Config().schema
    watched = {
        schema.label(key): [f.label for f in schema.table(key).fields]
        for key in ("missions", "members")
    }
    url = f"http://127.0.0.1:{port}/webhooks/airtable"
    created = create_webhook(client, url, list(watched), watched)
    save_webhook_secret(secret, created.webhook_id, created.mac_secret_base64)
    return created.webhook_id


def save_smtp_block(name: str, port: int) -> None:
    """The prefect-email block ``--smtp-block name`` names: the loopback SMTP server on
    ``port``, no TLS."""
    from prefect_email import EmailServerCredentials

    EmailServerCredentials(smtp_server="127.0.0.1", smtp_port=port, smtp_type="INSECURE").save(
        name, overwrite=True
    )


def environment_without(*prefixes: str) -> dict[str, str]:
    """This process's environment but the variables whose names start with ``prefixes``."""
    return {name: value for name, value in os.environ.items() if not name.startswith(prefixes)}


@contextmanager
def serving(
    arguments: list[str], env: dict[str, str], port: int, log: Path, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """``cae serve --port PORT ARGUMENTS``, its output in ``log``, once it answers."""
    command = [sys.executable, "-m", "cae.cli", "serve", "--port", str(port), *arguments]
    with log.open("w") as output:
        process = subprocess.Popen(
            command, env=env, stdout=output, stderr=subprocess.STDOUT, **popen
        )
        try:
            wait_for(lambda: healthy(port) or process.poll() is not None, timeout=90)
            assert process.poll() is None, log.read_text()
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
