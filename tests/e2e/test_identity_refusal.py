"""No real mail under a placeholder identity: with SMTP configured and ``[cooperative]``
lacking its name or its staff copy, ``cae run`` refuses before claiming anything, opens no SMTP
connection and exits with status 2, naming the missing keys in French. Without SMTP the same
configuration still writes the letters to the out folder."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

import pytest

from cae.cli import main
from integrations.ledger import SqliteLedger
from settings.defaults import EXAMPLE_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("prefect_server")]

INCOMPLETE = """\
[cooperative]
city = "Lyon"
email = "envois@essaims.example"
"""


@pytest.fixture
def data(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    shutil.copytree(EXAMPLE_DIR, folder)
    (folder / "cae.toml").write_text(INCOMPLETE, encoding="utf-8")
    return folder


@pytest.fixture
def listener():
    """A port that records whether anyone connected: the SMTP server the run must not reach."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def connected(sock: socket.socket) -> bool:
    try:
        sock.accept()[0].close()
    except BlockingIOError:
        return False
    return True


def run(data: Path, out: Path) -> int:
    return main(["run", "--data", str(data), "--as-of", "2026-11-26", "--out", str(out)])


def test_smtp_with_a_placeholder_identity_sends_nothing_and_claims_nothing(
    data, listener, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("CAE_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("CAE_SMTP_PORT", str(listener.getsockname()[1]))
    monkeypatch.setenv("CAE_SMTP_SECURITY", "INSECURE")
    monkeypatch.delenv("CAE_SMTP_BLOCK", raising=False)
    out = tmp_path / "out"

    assert run(data, out) == 2

    error = capsys.readouterr().err
    assert "Envoi par email refusé" in error
    where = (data / "cae.toml").resolve()
    assert f"[cooperative] de {where} ne renseigne pas name, staff_email." in error
    assert not connected(listener)
    ledger = out / "ledger.sqlite"
    assert not ledger.exists() or SqliteLedger(ledger).rows() == []
    assert not list(out.rglob("*.eml")) and not list(out.rglob("*.pdf"))


def test_without_smtp_the_defaults_still_write_to_the_out_folder(data, tmp_path, monkeypatch):
    for name in ("CAE_SMTP_HOST", "CAE_SMTP_BLOCK"):
        monkeypatch.delenv(name, raising=False)
    out = tmp_path / "out"

    assert run(data, out) == 0

    assert list(out.rglob("*.eml"))
    assert SqliteLedger(out / "ledger.sqlite").rows()
