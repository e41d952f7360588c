"""``cae ledger``: a person lists, inspects, resolves and exports the ledger."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from cae.cli import main
from cae.ledger_cli import neutralise
from charter.model import LedgerStatus
from integrations.ledger import LedgerRow, SqliteLedger


@pytest.fixture
def out(tmp_path):
    store = SqliteLedger(tmp_path / "ledger.sqlite")
    store.claim(
        [
            LedgerRow("payout_mid:Site", "payout_mid", LedgerStatus.PENDING, date(2026, 11, 26),
                      Decimal("750.00"), "Alice", "Site", member="Alice", mission="Site"),
            LedgerRow("exclusion:Bob", "exclusion", LedgerStatus.PENDING, date(2026, 11, 26),
                      member_id="Bob", member="=HYPERLINK(\"http://x\")", registered=True),
            LedgerRow("renewal:Alice:2027-01-01", "renewal", LedgerStatus.HISTORICAL,
                      date(2026, 11, 26), member_id="Alice", member="Alice"),
        ]
    )  # fmt: skip
    return tmp_path


def cae(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_list_filters_by_status_kind_and_member(out, capsys):
    code, text, _ = cae(capsys, "ledger", "list", "--out", str(out), "--status", "pending")
    assert code == 0
    assert "payout_mid:Site" in text and "exclusion:Bob" in text and "renewal" not in text
    _, text, _ = cae(
        capsys, "ledger", "list", "--out", str(out), "--member", "Alice", "--kind", "renewal"
    )
    assert "renewal:Alice:2027-01-01" in text and "1 document(s)" in text


def test_mark_resolves_pending_keys(out, capsys):
    marking = ["ledger", "mark", "payout_mid:Site", "exclusion:Bob", "--as", "sent"]
    code, _, _ = cae(capsys, *marking, "--out", str(out))
    assert code == 0
    assert SqliteLedger(out / "ledger.sqlite").rows(LedgerStatus.PENDING) == []


def test_mark_of_an_unknown_key_fails_with_a_french_message(out, capsys):
    code, _, err = cae(capsys, "ledger", "mark", "nope", "--out", str(out), "--as", "failed")
    assert code == 1 and "Clé absente du registre : nope" in err


def test_register_records_the_number_and_posting_date(out, capsys):
    code, text, _ = cae(
        capsys,
        "ledger",
        "register",
        "exclusion:Bob",
        "1A 234 567 8901 2",
        "--posted-on",
        "2026-11-27",
        "--out",
        str(out),
    )
    assert code == 0 and "1A 234 567 8901 2" in text
    row = SqliteLedger(out / "ledger.sqlite").row("exclusion:Bob")
    assert (row.registered_number, row.posted_on) == ("1A 234 567 8901 2", date(2026, 11, 27))
    _, shown, _ = cae(capsys, "ledger", "show", "exclusion:Bob", "--out", str(out))
    assert '"registered_number": "1A 234 567 8901 2"' in shown


def test_export_is_csv_with_formulas_neutralised(out, capsys):
    code, text, _ = cae(capsys, "ledger", "export", "--out", str(out))
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["key"] for r in rows] == [
        "exclusion:Bob",
        "payout_mid:Site",
        "renewal:Alice:2027-01-01",
    ]
    assert rows[0]["member"] == '\'=HYPERLINK("http://x")'
    assert rows[1]["amount"] == "750.00"


def test_no_ledger_in_the_folder_is_an_error(tmp_path, capsys):
    code, _, err = cae(capsys, "ledger", "list", "--out", str(tmp_path / "nothing"))
    assert code == 1 and "aucun registre" in err


@pytest.mark.parametrize(
    ("cell", "exported"),
    [
        ("-150.00", "-150.00"),  # a negative payout stays a number
        ("750", "750"),
        ("-1+2", "'-1+2"),
        ("+33 6 12 34 56 78", "'+33 6 12 34 56 78"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("-", "'-"),
    ],
)
def test_only_formulas_are_neutralised_not_plain_amounts(cell, exported):
    assert neutralise(cell) == exported
