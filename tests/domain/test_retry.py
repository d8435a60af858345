"""Request pacing: the rate limiter spaces calls evenly across threads, and a hold-off (the other
side's Retry-After) holds every thread, including one already asleep on the slot it reserved."""

from __future__ import annotations

import threading
import time

from domain.platform.retry import RateLimiter


def test_acquisitions_are_evenly_spaced_across_threads() -> None:
    limiter = RateLimiter(20.0)
    started = time.monotonic()
    times: list[float] = []
    lock = threading.Lock()

    def take() -> None:
        limiter.acquire()
        with lock:
            times.append(time.monotonic() - started)

    threads = [threading.Thread(target=take) for _ in range(11)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    times.sort()
    assert all(at >= k / 20.0 - 0.005 for k, at in enumerate(times))  # never sooner than its slot
    assert times[-1] < 1.0


def test_hold_off_holds_a_thread_already_waiting_for_its_slot() -> None:
    limiter = RateLimiter(2.0)
    limiter.acquire()  # now; the next slot is 0.5 s away
    started = time.monotonic()
    woke: list[float] = []
    waiter = threading.Thread(target=lambda: (limiter.acquire(), woke.append(time.monotonic() - started)))
    waiter.start()
    time.sleep(0.1)  # the waiter has reserved the 0.5 s slot and sleeps on it
    limiter.hold_off(1.0)
    waiter.join()
    assert woke[0] >= 1.1  # not at 0.5 s: the hold-off came after its reservation and still held it
    limiter.acquire()
    assert time.monotonic() - started >= woke[0] + 0.5 - 0.005  # spacing resumes after the hold
