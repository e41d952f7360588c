"""The Airtable client against the emulator's spent monthly quota, without Prefect.

A 429 ``PUBLIC_API_BILLING_LIMIT_EXCEEDED`` raises at once (no penalty waited, no retry), while
an ordinary rate-limit 429 is still waited out; every request the client sends is counted.
"""

from __future__ import annotations

import time

import pytest

from emulators.airtable import AirtableEmulator
from integrations.airtable import AirtableClient, AirtableQuotaExceeded, AirtableSettings

TOKEN, BASE = "patQUOTA", "appQUOTA"


@pytest.fixture
def emulator():
    with AirtableEmulator(TOKEN, BASE, penalty_seconds=0.3) as emulator:
        emulator.create_table("Membres", [{"name": "Nom", "type": "singleLineText"}])
        emulator.insert("Membres", {"Nom": "Aïcha Benali"})
        yield emulator


def client(emulator: AirtableEmulator, penalty: float) -> AirtableClient:
    return AirtableClient(
        AirtableSettings(BASE, TOKEN, emulator.url, penalty_seconds=penalty, attempts=8)
    )


def test_spent_quota_raises_at_once_without_retry(emulator):
    emulator.exceed_monthly_quota(after=1)
    airtable = client(emulator, penalty=30.0)
    assert [r["fields"]["Nom"] for r in airtable.table("Membres").all()] == ["Aïcha Benali"]
    started = time.monotonic()
    with pytest.raises(AirtableQuotaExceeded, match="appels à l'API du mois sont épuisés"):
        airtable.table("Membres").all()
    assert time.monotonic() - started < 5
    assert emulator.count() == 2 and emulator.count_429() == 1
    assert airtable.adapter.requests == 2 and airtable.adapter.rate_limited == 0


def test_an_ordinary_rate_limit_is_still_waited_out(emulator):
    emulator.inject(429, count=1)
    airtable = client(emulator, penalty=0.3)
    started = time.monotonic()
    assert len(airtable.table("Membres").all()) == 1
    assert time.monotonic() - started >= 0.3
    assert airtable.adapter.requests == 2 and airtable.adapter.rate_limited == 1
