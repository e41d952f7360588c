"""Keeping within an outside API's rate limit: one interface, one policy per API.

A ``Pacer`` is asked before each request (``acquire``), told when its answer came back
(``release``) and told to hold everything after a 429 (``pause``). A request counts from the
moment its answer came back: the server saw it at the latest then, so however long the network
held it, the pacer is never more generous than the server. Two policies:

- ``SlidingWindow``: at most ``rate`` requests in any window of one second (Airtable: 5 a second
  per base, then 30 s of silence after a 429);
- ``TokenBucket``: a burst, then one request each ``1/rate`` second on average (Notion: about 3
  a second per integration token, silence for ``Retry-After`` after a 429).

The limit belongs to the server, not to one client: ``shared_pacer`` gives every client of one
base (or token) in the process the same pacer.
"""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Hashable
from email.utils import parsedate_to_datetime


class Pacer(ABC):
    """Spaces the requests to one API account; see the module docstring."""

    #: The requests a second the pacer was built for, as configured.
    rate: float

    @abstractmethod
    def acquire(self) -> None:
        """Block until one more request may go out."""

    @abstractmethod
    def release(self) -> None:
        """The answer to a request came back (or its connection failed)."""

    @abstractmethod
    def pause(self, seconds: float) -> None:
        """After a 429: send nothing for ``seconds``."""


class SlidingWindow(Pacer):
    """At most ``rate`` requests (rounded down, at least 1) in any sliding window of one second:
    a request counts from its answer, and requests in flight (from other threads) count in
    advance, so threads sharing the pacer never send more than the window allows together.

    ``pause`` holds every caller for the whole penalty, then starts a fresh window.
    """

    def __init__(self, rate: float, window: float = 1.0) -> None:
        self.rate = rate
        self.limit = max(1, int(rate))
        self.window = window
        self._done: deque[float] = deque(maxlen=self.limit)
        self._in_flight = 0
        self._changed = threading.Condition()

    def acquire(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                while self._done and self._done[0] + self.window <= now:
                    self._done.popleft()
                if len(self._done) + self._in_flight < self.limit:
                    self._in_flight += 1
                    return
                # Wait for the oldest answer to leave the window, or for an answer to come.
                self._changed.wait(self._done[0] + self.window - now if self._done else None)

    def release(self) -> None:
        with self._changed:
            self._in_flight -= 1
            self._done.append(time.monotonic())
            self._changed.notify_all()

    def pause(self, seconds: float) -> None:
        with self._changed:
            time.sleep(seconds)
            self._done.clear()


class TokenBucket(Pacer):
    """``burst`` requests at once, then one each ``1/rate`` second; a request takes its token
    when its answer comes back, and requests in flight hold theirs in advance.

    ``pause`` empties the bucket (the server's is empty) and sends nothing until it ends.
    """

    #: Tokens kept in hand, so rounding never sends a request a hair too early.
    MARGIN = 0.01

    def __init__(self, rate: float, burst: int | None = None) -> None:
        self.rate = rate
        self.burst = burst if burst is not None else max(1, int(rate))
        self._level = float(self.burst)
        self._at = time.monotonic()
        self._in_flight = 0
        self._resume = 0.0
        self._changed = threading.Condition()

    def _refill(self, now: float) -> None:
        self._level = min(float(self.burst), self._level + (now - self._at) * self.rate)
        self._at = now

    def acquire(self) -> None:
        with self._changed:
            while True:
                now = time.monotonic()
                self._refill(now)
                delay = self._resume - now
                if delay <= 0:
                    missing = 1 + self.MARGIN + self._in_flight - self._level
                    if missing <= 0:
                        self._in_flight += 1
                        return
                    delay = missing / self.rate
                self._changed.wait(delay)

    def release(self) -> None:
        with self._changed:
            self._refill(time.monotonic())
            self._level -= 1
            self._in_flight -= 1
            self._changed.notify_all()

    def pause(self, seconds: float) -> None:
        with self._changed:
            now = time.monotonic()
            self._refill(now)
            self._level = min(self._level, 0.0)
            self._resume = max(self._resume, now + seconds)
            self._changed.notify_all()


_PACERS: dict[Hashable, Pacer] = {}
_PACERS_LOCK = threading.Lock()


def shared_pacer(key: Hashable, rate: float, policy: Callable[[float], Pacer]) -> Pacer:
    """The pacer every client of the account ``key`` shares in this process; a new one, made
    by ``policy(rate)``, when there is none yet or the rate asked for has changed."""
    with _PACERS_LOCK:
        pacer = _PACERS.get(key)
        if pacer is None or pacer.rate != rate:
            pacer = _PACERS[key] = policy(rate)
        return pacer


def backoff(attempt: int) -> float:
    """Seconds to wait before sending again after the ``attempt``-th failure (no 429)."""
    return float(min(2.0**attempt * 0.1, 5.0))


def retry_after(value: str | None, ceiling: float) -> float | None:
    """A ``Retry-After`` header in seconds (a number or an HTTP date), at most ``ceiling``;
    ``None`` without one that can be read."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return min(max(seconds, 0.0), ceiling)
