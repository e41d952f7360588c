"""The example cooperative's two documented runs, as worked out by hand, and how to compare.

``tests/e2e/expected_example.json`` holds the hand computation (each entry says why);
``assert_matches`` checks a run's summary against it, whatever the source the run read.
"""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

EXPECTED = json.loads(
    (Path(__file__).parents[1] / "e2e" / "expected_example.json").read_text("utf-8")
)
RUN_1, RUN_2 = EXPECTED["runs"]
MISSION = "Refonte intranet Mairie de Montreuil"  # the mission the targeted runs are about


def same_value(expected: object, actual: object) -> bool:
    """Equal, figures compared as decimals ("750.00" is "750.0")."""
    if isinstance(expected, str) and isinstance(actual, str):
        try:
            return Decimal(expected) == Decimal(actual)
        except ArithmeticError:
            return expected == actual
    return expected == actual


def assert_matches(expected_run: dict, summary: dict, *, source: str | None = None) -> None:
    """The run's summary issues, alerts and reports what the hand computation says (and read
    ``source``, when given)."""
    if source is not None:
        assert summary["source"] == source
    assert summary["as_of"] == expected_run["as_of"]
    documents = {d["key"]: d for d in summary["documents"]}
    expected_docs = {d["key"]: d for d in expected_run["documents"]}
    assert sorted(documents) == sorted(expected_docs)
    for key, expected in expected_docs.items():
        for name, value in expected.items():
            if name != "why":
                assert same_value(value, documents[key].get(name)), (key, name, documents[key])
    for absent in expected_run["not_issued"]:
        assert absent["key"] not in documents, absent["why"]

    # The hand computation names each alert by the member and/or mission it is about; an alert
    # may carry more, so compare on the names the expected alerts of that kind use.
    named_by: dict[str, set[str]] = {}
    for alert in expected_run["alerts"]:
        named_by.setdefault(alert["kind"], set()).update({"member", "mission"} & set(alert))

    def alert_key(alert: dict) -> tuple:
        names = named_by.get(alert["kind"], set())
        return (
            alert["kind"],
            *(alert.get(n) if n in names else None for n in ("member", "mission")),
        )

    expected_alerts = Counter(alert_key(a) for a in expected_run["alerts"])
    assert Counter(alert_key(a) for a in summary["alerts"]) == expected_alerts
    assert all(a["message"] for a in summary["alerts"])

    def error_key(error: dict) -> tuple:
        return (error["table"], error["record"], error["field"])

    assert {error_key(e) for e in summary["errors"]} == {
        error_key(e) for e in expected_run["errors"]
    }


def ledger_rows(runs: dict) -> list:
    """Check the first run's ledger (``runs["ledger"]``) holds its payouts in Versements and its
    other letters in Courriers; return the rows of both."""
    ledger = runs["ledger"]
    kinds = Counter(d["kind"] for d in runs["first"]["documents"])
    assert len(ledger["Versements"]) == kinds["payout_mid"] + kinds["payout_delivery"]
    assert len(ledger["Courriers"]) == sum(kinds.values()) - len(ledger["Versements"])
    return ledger["Versements"] + ledger["Courriers"]
