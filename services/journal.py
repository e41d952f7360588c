"""Carry into the ledger what runs that died left in their journals (``integrations.journal``).

A run reads its ledger after settling the journals of runs that are over (``settle_journals``),
so before it claims anything. For each key a dead run's journal names and that the ledger still
holds ``pending`` (a key whose row says anything else was settled already, by a run or by a
person, and is left alone):

- the mail server accepted the letter: the key becomes ``sent``;
- the server refused it: ``failed``, sent again by a daily run as any refused letter;
- the run claimed it and never began its SMTP transaction: ``failed`` as well, which releases
  it: a daily run sends the written letter again (``services.ledger.ledger_state``'s
  ``resend``), and a key with no letter written is issued anew by this very run;
- the transaction began and no answer came (the run died during it, or the connection dropped
  after the data): the key stays ``pending`` for a person, who alone can find out whether it
  went. At most one such key per killed run, plus the mails whose outcome is truly unknown.

Keys a run was about to claim (``claiming``) but whose claim it never saw confirmed count as its
own only on a ledger whose runs never overlap (Airtable, Notion: ``LedgerStore.serialised``):
there, a key absent when that run read the ledger and ``pending`` now was created by that run.
On the local ledger, the claim is one SQLite transaction and only confirmed keys count.

When several dead journals name a key, an accepted letter wins (it went out: it is never sent
again); otherwise the most recent journal says what happened last. A journal's lines about keys
this run cannot see (a targeted run reads only its mission's or member's keys) are kept for a
later run; the rest of the journal is deleted once the ledger holds it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from charter.model import LedgerStatus
from integrations.journal import Entries, dead_journals
from integrations.ledger import CachedLedger, LedgerStore

SENT, FAILED, RELEASED, WAITING = "sent", "failed", "released", "waiting"


@dataclass(frozen=True)
class Decision:
    outcome: str  # SENT, FAILED, RELEASED or WAITING
    document: str | None = None


def decide(key: str, entries: Entries, serialised: bool) -> Decision | None:
    """What one journal says of ``key``, a key the ledger holds ``pending``; ``None`` when the
    journal cannot tell that the key was its run's."""
    answer = entries.answers.get(key)
    if answer is not None and answer[0] in (SENT, FAILED):
        return Decision(answer[0], answer[1])
    if answer is not None or key in entries.attempting:
        return Decision(WAITING)
    if key in entries.claimed or (serialised and key in entries.claiming):
        return Decision(RELEASED)
    return None


def settle_journals(store: LedgerStore, out: Path) -> Counter[str]:
    """Write to ``store`` what the dead runs' journals in ``out`` hold for its pending keys;
    return how many keys became sent, failed, released, or stay waiting for a person."""
    settled: Counter[str] = Counter()
    journal = store.journal
    if journal.folder is None:  # a preview, or a ledger opened by hand: nothing to carry
        return settled
    with dead_journals(out, journal.ledger) as journals:
        if not journals:
            return settled
        statuses = {row.key: row.status for row in store.rows()}
        sees_all = not (isinstance(store, CachedLedger) and store.scope is not None)
        accepted = {
            key: answer[1]
            for dead in journals
            for key, answer in dead.entries.answers.items()
            if answer[0] == SENT
        }
        decisions: dict[str, Decision] = {}
        for dead in sorted(journals, key=lambda j: j.path.name, reverse=True):  # newest first
            for key in dead.entries.all_keys():
                if statuses.get(key) is not LedgerStatus.PENDING or key in decisions:
                    continue
                found = decide(key, dead.entries, store.serialised)
                if key in accepted:
                    found = Decision(SENT, accepted[key])
                if found is not None:
                    decisions[key] = found
        for key, decision in sorted(decisions.items()):
            if decision.outcome == SENT:
                store.mark(key, LedgerStatus.SENT, decision.document)
            elif decision.outcome in (FAILED, RELEASED):
                store.mark(key, LedgerStatus.FAILED, decision.document)
            settled[decision.outcome] += 1
        store.flush()
        for dead in journals:
            dead.keep_only(set() if sees_all else dead.entries.all_keys() - set(statuses))
    return settled
