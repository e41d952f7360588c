"""The service layer without Prefect: recipients, the ledger's claims, the report's tags.

Each is a plain function over real parts (a SQLite ledger, an out folder in a temporary
folder), called with no flow run and no Prefect server.
"""

from datetime import date
from decimal import Decimal

from charter.model import Document, LedgerStatus
from integrations.ledger import SqliteLedger
from integrations.outbox import Outbox
from services.delivery import recipients
from services.ledger import claim, ledger_state
from services.report import run_tags
from services.summary import Namer, RunSummary
from settings.config import CooperativeInfo
from settings.schema import Schema
from tests.support.builders import coop, member

AS_OF = date(2026, 11, 26)


def test_recipients_are_the_member_then_the_sponsor_and_the_staff_in_copy():
    records = coop(
        [
            member("Inès", email="ines@example.org", sponsor_id="Paul"),
            member("Paul", email="paul@example.org"),
        ]
    )
    info = CooperativeInfo(staff_email="appui@example.org")
    assert recipients("Inès", "Paul", records, info) == (
        ["ines@example.org"],
        ["paul@example.org", "appui@example.org"],
    )
    assert recipients("Inès", None, records, CooperativeInfo()) == (["ines@example.org"], [])
    assert recipients("Personne", None, records, info) == ([], ["appui@example.org"])


def _document(key: str, *, historical: bool = False) -> Document:
    return Document(
        "payout_mid",
        key,
        "Inès",
        {"rate": Decimal("0.15"), "gross_margin": Decimal("1000"), "amount": Decimal("75")},
        historical=historical,
    )


def test_claim_returns_the_new_documents_once_and_records_the_historical(tmp_path, caplog):
    store = SqliteLedger(tmp_path / "ledger.sqlite")
    namer = Namer(coop([member("Inès")]), Schema.default())
    documents = [_document("payout_mid:a"), _document("payout_mid:old", historical=True)]
    with caplog.at_level("INFO", logger="services.ledger"):
        issued = claim(store, documents, AS_OF, namer)
    assert [doc.key for doc in issued] == ["payout_mid:a"]
    assert "1 document(s) à émettre, 1 antérieur(s)" in caplog.text
    assert claim(store, documents, AS_OF, namer) == []  # every key is already claimed
    statuses = {row.key: row.status for row in store.rows()}
    assert statuses == {
        "payout_mid:a": LedgerStatus.PENDING,
        "payout_mid:old": LedgerStatus.HISTORICAL,
    }


def test_the_ledger_state_sends_the_pending_keys_to_a_person(tmp_path):
    store = SqliteLedger(tmp_path / "ledger.sqlite")
    namer = Namer(coop([member("Inès")]), Schema.default())
    claim(store, [_document("payout_mid:a"), _document("payout_mid:b")], AS_OF, namer)
    store.mark("payout_mid:b", LedgerStatus.FAILED)
    state = ledger_state(store, Outbox(tmp_path / "out"))
    assert [row.key for row in state.waiting] == ["payout_mid:a"]
    # Failed with no document written: the rules issue it again, so the charter does not see it.
    assert state.reissue == frozenset({"payout_mid:b"})
    assert set(state.entries) == {"payout_mid:a"}


def test_run_tags_name_the_source_and_what_needs_a_person(tmp_path):
    store = SqliteLedger(tmp_path / "ledger.sqlite")
    state = ledger_state(store, Outbox(tmp_path / "out"))
    quiet = RunSummary(AS_OF, "notion")
    assert run_tags(quiet, state) == {"source:notion"}
    busy = RunSummary(
        AS_OF,
        "local",
        documents=[{"delivery": "failed"}, {"delivery": "pending"}],
        errors=[{"table": "Membres"}],
    )
    assert run_tags(busy, state) == {
        "source:local",
        "erreurs-de-donnees",
        "envoi-en-echec",
        "a-verifier",
    }
