"""The pacing of outside APIs (``integrations.pacing``) and the settings read from the
environment (``integrations.environment``), on their own: no server, only the clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from integrations.environment import Environment
from integrations.pacing import SlidingWindow, TokenBucket, retry_after, shared_pacer


@pytest.mark.parametrize(
    ("make", "burst", "requests", "least"),
    [
        # Notion's policy: 2 at once, then one each 1/20 s.
        pytest.param(lambda: TokenBucket(rate=20, burst=2), 2, 12, (12 - 2) / 20, id="bucket"),
        # Airtable's: 5 in any window (of 0.2 s here, to be quick).
        pytest.param(lambda: SlidingWindow(rate=5, window=0.2), 5, 15, 2 * 0.2, id="window"),
    ],
)
def test_a_pacer_keeps_to_its_rate(make, burst, requests, least):
    pacer = make()
    start = time.monotonic()
    for sent in range(requests):
        pacer.acquire()
        pacer.release()
        if sent + 1 == burst:
            assert time.monotonic() - start < least / 2  # the burst goes at once
    assert time.monotonic() - start >= least * 0.95


def test_a_pause_holds_the_sliding_window_then_starts_a_fresh_one():
    pacer = SlidingWindow(rate=2, window=10.0)
    for _ in range(2):
        pacer.acquire()
        pacer.release()
    start = time.monotonic()
    pacer.pause(0.1)
    pacer.acquire()  # the window was cleared: no 10 s wait
    assert 0.1 * 0.95 <= time.monotonic() - start < 1.0


def test_one_pacer_per_account_and_rate():
    one = shared_pacer(("test", "account-1"), 5, SlidingWindow)
    assert shared_pacer(("test", "account-1"), 5, SlidingWindow) is one
    assert shared_pacer(("test", "account-2"), 5, SlidingWindow) is not one
    faster = shared_pacer(("test", "account-1"), 8, TokenBucket)
    assert faster is not one and isinstance(faster, TokenBucket)


def test_retry_after_reads_seconds_and_http_dates_within_the_ceiling():
    assert retry_after("2.5", 60) == 2.5
    assert retry_after("600", 60) == 60
    assert retry_after(None, 60) is None and retry_after("soon", 60) is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= (retry_after(later, 60) or 0) <= 30


def test_a_token_comes_from_the_environment_or_its_absence_is_said_in_french():
    assert Environment({"NOTION_TOKEN": "secret_x"}).token("NOTION", "Notion") == "secret_x"
    with pytest.raises(ValueError, match="Jeton Airtable absent : définissez AIRTABLE_TOKEN"):
        Environment({}).token("AIRTABLE", "Airtable")


def test_numbers_and_texts_fall_back_to_their_defaults():
    env = Environment({"CAE_AIRTABLE_RATE": "20", "NOTION_BASE_URL": ""})
    assert env.number("CAE_AIRTABLE_RATE", 5) == 20.0
    assert env.number("CAE_NOTION_RATE", 3) == 3.0
    assert env.text("NOTION_BASE_URL", "https://api.notion.com") == "https://api.notion.com"


def test_a_sliding_window_shared_by_threads_counts_the_requests_in_flight():
    """Two threads (a run's claims and its marks) sending through one pacer never have more
    than its limit sent in any second, though each request takes a while to answer."""
    import threading

    pacer = SlidingWindow(5)
    sent: list[float] = []
    lock = threading.Lock()

    def requests() -> None:
        for _ in range(8):
            pacer.acquire()
            with lock:
                sent.append(time.monotonic())
            time.sleep(0.15)  # the answer takes its time
            pacer.release()

    threads = [threading.Thread(target=requests) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    sent.sort()
    assert len(sent) == 16
    assert all(b - a >= 1.0 - 1e-3 for a, b in zip(sent, sent[5:], strict=False))
