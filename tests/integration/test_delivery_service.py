"""The daily pipeline's services on the example cooperative, without Prefect.

Load, evaluate, claim, render and deliver two letters to the out folder, each a plain
function over the real CSV reader, SQLite ledger, out folder and Typst; claim, render and
deliver meet in a ``Handover`` as in a run (here one after the other).
"""

from datetime import date

from charter.evaluate import evaluate
from charter.model import LedgerStatus
from integrations.ledger import SqliteLedger
from integrations.outbox import Outbox
from integrations.workbook import LocalWorkbook
from services import delivery, ledger, records
from services.handover import open_handover
from services.summary import Namer
from settings.config import Config
from settings.defaults import EXAMPLE_DIR

AS_OF = date(2026, 11, 26)


def test_two_letters_go_from_the_records_to_the_out_folder(tmp_path):
    config = Config.find(EXAMPLE_DIR)
    loaded = records.load(LocalWorkbook(EXAMPLE_DIR), config.schema)
    store = SqliteLedger(tmp_path / "ledger.sqlite")
    outbox = Outbox(tmp_path)
    state = ledger.ledger_state(store, outbox)
    evaluation = evaluate(loaded.coop, state.entries, AS_OF, config.charter, config.go_live)
    namer = Namer(loaded.coop, config.schema)
    due = [doc for doc in evaluation.documents if doc.kind == "renewal"][:2]
    with open_handover(due) as handover:
        claimed = ledger.claim(store, due, AS_OF, namer, handover=handover)
        handover.claims_over()
        assert len(claimed) == 2
        delivery.render_into(handover, loaded.coop, config.cooperative, config.charter, AS_OF)
        delivered = delivery.deliver(
            store,
            outbox,
            delivery.OutboxOnly(),
            handover,
            [],
            loaded.coop,
            namer,
            config.cooperative,
            AS_OF,
        )
    assert [issued.delivery for issued in delivered.issued] == ["outbox", "outbox"]
    assert {row.key: row.status for row in store.rows()} == {
        doc.key: LedgerStatus.SENT for doc in claimed
    }
    for doc in claimed:
        assert outbox.has(doc.kind, doc.key)
        assert outbox.read_message(doc.kind, doc.key)["Subject"]
