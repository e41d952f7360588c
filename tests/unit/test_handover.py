"""The handover between a run's claim, render and deliver steps (``services.handover``): a letter
is given to delivery only once it is both rendered and claimed by this run, never before; and
the claims go a batch of one ledger table at a time, as few requests as one claim of them all."""

import math
import pickle
import threading
from datetime import date

from charter.model import Cooperative, Document
from documents.rendering import RenderFailure
from integrations.ledger import SqliteLedger
from integrations.ledger_fields import table_for
from services import ledger
from services.handover import Handover, open_handover
from services.summary import Namer
from settings.config import Config

AS_OF = date(2026, 11, 26)


def doc(key: str, kind: str = "renewal", historical: bool = False) -> Document:
    facts = {"renewal_on": AS_OF}
    return Document(kind=kind, key=key, member_id="m1", facts=facts, historical=historical)


def letter(name: str) -> bytes:
    """A stand-in for a rendered letter, pickled as a worker sends it."""
    return pickle.dumps(RenderFailure(name))


def taken_in_background(handover: Handover) -> tuple[threading.Thread, list[str]]:
    taken: list[str] = []

    def take() -> None:
        for document, result in handover.letters():
            assert isinstance(result, RenderFailure) and result.message == document.key
            taken.append(document.key)

    thread = threading.Thread(target=take)
    thread.start()
    return thread, taken


def test_a_rendered_letter_waits_for_its_claim_and_an_unclaimed_one_never_goes(tmp_path):
    handover = Handover([doc("a"), doc("b"), doc("c"), doc("old", historical=True)], tmp_path)
    assert [d.key for d in handover.documents] == ["a", "b", "c"]
    thread, taken = taken_in_background(handover)
    handover.keep(0, letter("a"))
    handover.keep(1, letter("b"))
    thread.join(0.2)
    assert taken == []  # rendered, not claimed: nothing goes
    handover.claimed(["a", "old"])
    handover.claimed(["c"])  # claimed before it is rendered: it waits for its letter
    thread.join(0.2)
    assert taken == ["a"] and thread.is_alive()
    handover.keep(2, letter("c"))
    handover.claims_over()  # "b" was claimed by another run
    thread.join(5)
    assert not thread.is_alive()
    assert taken == ["a", "c"]
    assert handover.claimed_keys == ["a", "old", "c"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["1"]  # only b's letter is left


def test_a_claimed_letter_never_rendered_does_not_hold_delivery_once_rendering_is_over(tmp_path):
    handover = Handover([doc("a"), doc("b")], tmp_path)
    thread, taken = taken_in_background(handover)
    handover.claimed(["a", "b"])
    handover.claims_over()
    handover.keep(1, letter("b"))
    thread.join(0.2)
    assert taken == ["b"] and thread.is_alive()  # "a" may still come
    handover.render_over()  # it will not
    thread.join(5)
    assert not thread.is_alive() and taken == ["b"]


def test_a_stopped_handover_ends_delivery_and_the_claims(tmp_path):
    with open_handover([doc("a")]) as handover:
        thread, taken = taken_in_background(handover)
        handover.stop()
        thread.join(5)
        assert not thread.is_alive() and taken == [] and handover.stopped()


def test_claims_go_in_batches_of_one_table_as_few_as_one_claim_of_them_all():
    kinds = ["payout_mid", "renewal", "renewal", "payout_mid"] * 13 + ["renewal"] * 5
    rows = [
        ledger.LedgerRow(
            key=f"k{n}", kind=kind, status=ledger.LedgerStatus.PENDING, issued_on=AS_OF
        )
        for n, kind in enumerate(kinds)
    ]
    batches = ledger.batches(rows, 10)
    assert all(len({table_for(row.kind) for row in batch}) == 1 for batch in batches)
    by_table = {table_for(kind): kinds.count(kind) for kind in kinds}
    assert len(batches) == sum(math.ceil(count / 10) for count in by_table.values())
    assert sorted(row.key for batch in batches for row in batch) == sorted(r.key for r in rows)
    assert batches[0][0].key == "k0"


def test_each_batch_claimed_is_told_to_the_handover_letters_first(tmp_path):
    namer = Namer(Cooperative(members={}, missions={}), Config().schema)
    store = SqliteLedger(tmp_path / "ledger.sqlite")
    documents = [doc(f"old{n}", historical=True) for n in range(3)] + [doc("a"), doc("b")]
    store.claim([ledger.claim_row(doc("b"), AS_OF, namer)])  # another run
    handover = Handover(documents, tmp_path)
    claimed = ledger.claim(store, documents, AS_OF, namer, handover=handover)
    assert [d.key for d in claimed] == ["a"]
    assert handover.claimed_keys == ["a", "old0", "old1", "old2"]
