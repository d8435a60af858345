"""Retry timing and request pacing shared by every workflow that calls a gateway or a channel.

Pure timing: the caller passes `now` and a random source, so tests choose both.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time


def backoff_delay_s(
    attempt: int,
    base_s: float,
    max_s: float,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> float:
    """Delay before attempt `attempt + 1`: exponential, with "equal jitter" so it is never near zero.

    The other side's Retry-After, when given, is a floor: we never come back sooner than it asked.
    """
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    ceiling: float = min(max_s, base_s * 2.0 ** (attempt - 1))
    delay: float = ceiling / 2 + rng.uniform(0, ceiling / 2)
    if retry_after_s is not None and retry_after_s > delay:
        delay = retry_after_s
    return delay


def next_attempt_at(
    now: dt.datetime,
    attempt: int,
    base_s: float,
    max_s: float,
    rng: random.Random,
    retry_after_s: float | None = None,
) -> dt.datetime:
    return now + dt.timedelta(seconds=backoff_delay_s(attempt, base_s, max_s, rng, retry_after_s))


def attempts_exhausted(attempts_made: int, max_attempts: int) -> bool:
    return attempts_made >= max_attempts


class RateLimiter:
    """At most `per_second` acquisitions a second across threads, evenly spaced.

    `hold_off` holds every thread, including those already asleep on a slot they reserved before it:
    each wakes, sees the hold, and takes a new slot after it (still evenly spaced), so nothing is sent
    while the other side has asked us to wait.
    """

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = time.monotonic()
        self._held_until = 0.0
        self._holds = 0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        while True:
            with self._lock:
                now = time.monotonic()
                slot = max(now, self._next)
                self._next = slot + self._interval
                holds = self._holds
            if slot > now:
                time.sleep(slot - now)
            with self._lock:
                if self._holds == holds or slot >= self._held_until:
                    return

    def hold_off(self, seconds: float) -> None:
        """Space every later call at least `seconds` from now (the other side said Retry-After)."""
        with self._lock:
            until = time.monotonic() + seconds
            self._held_until = max(self._held_until, until)
            self._next = max(self._next, until)
            self._holds += 1
