"""The preview's parts without Prefect: a ledger read and never written, its report and tag."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal

from charter.model import Document, LedgerStatus
from integrations.ledger import SqliteLedger
from integrations.outbox import Outbox
from services.ledger import claim, ledger_state
from services.preview import PREVIEW_FOLDER, fresh_folder, preview_ledger
from services.report import report_markdown, run_tags
from services.summary import Namer, RunSummary
from settings.schema import Schema
from tests.support.builders import coop, member

AS_OF = date(2026, 11, 26)


def payout(key: str) -> Document:
    facts = {"rate": Decimal("0.15"), "gross_margin": Decimal("1000"), "amount": Decimal("75")}
    return Document("payout_mid", key, "Inès", facts)


def test_an_absent_ledger_stays_absent(tmp_path):
    path = tmp_path / "ledger.sqlite"
    store = preview_ledger(path)
    namer = Namer(coop([member("Inès")]), Schema.default())
    assert [d.key for d in claim(store, [payout("payout_mid:a")], AS_OF, namer)] == ["payout_mid:a"]
    store.mark("payout_mid:a", LedgerStatus.SENT)
    store.flush()
    assert not path.exists() and not tmp_path.joinpath("ledger.sqlite-journal").exists()


def test_an_existing_ledger_is_read_and_left_byte_identical(tmp_path):
    path = tmp_path / "ledger.sqlite"
    namer = Namer(coop([member("Inès")]), Schema.default())
    claim(SqliteLedger(path), [payout("payout_mid:a"), payout("payout_mid:b")], AS_OF, namer)
    SqliteLedger(path).mark("payout_mid:b", LedgerStatus.FAILED)
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    store = preview_ledger(path)
    state = ledger_state(store, Outbox(tmp_path))
    assert [r.key for r in state.waiting] == ["payout_mid:a"]
    assert state.reissue == frozenset({"payout_mid:b"})
    documents = [payout(k) for k in ("payout_mid:a", "payout_mid:b", "payout_mid:c")]
    issued = claim(store, documents, AS_OF, namer, state.reissue)
    assert [d.key for d in issued] == ["payout_mid:b", "payout_mid:c"]  # as a real run would
    for doc in issued:
        store.mark(doc.key, LedgerStatus.SENT)
    store.flush()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert {r.key: r.status for r in SqliteLedger(path).rows()} == {
        "payout_mid:a": LedgerStatus.PENDING,
        "payout_mid:b": LedgerStatus.FAILED,
    }


def test_the_preview_folder_is_emptied_and_nothing_else(tmp_path):
    (tmp_path / PREVIEW_FOLDER / "documents").mkdir(parents=True)
    (tmp_path / PREVIEW_FOLDER / "documents" / "old.pdf").write_bytes(b"%PDF")
    (tmp_path / "run-summary.json").write_text("{}")
    fresh_folder(tmp_path / PREVIEW_FOLDER)
    assert list((tmp_path / PREVIEW_FOLDER).iterdir()) == []
    assert (tmp_path / "run-summary.json").exists()


def test_the_report_says_nothing_was_sent_and_the_run_is_tagged(tmp_path):
    summary = RunSummary(AS_OF, "airtable", preview=True, source_requests=18)
    report = report_markdown(summary, [], {})
    assert report.startswith("# Aperçu du 26 novembre 2026 (source : airtable)")
    assert "**Aperçu : rien n'a été envoyé.**" in report
    assert "Requêtes envoyées à la source : 18." in report
    state = ledger_state(preview_ledger(tmp_path / "ledger.sqlite"), Outbox(tmp_path))
    assert run_tags(summary, state) == {"source:airtable", "apercu"}
    assert summary.as_dict()["preview"] is True and summary.as_dict()["source_requests"] == 18
