"""What one run of a gateway workflow did, shared by the payout and refund submissions."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RunSummary:
    """What one run did, by outcome (`submitted`, `completed`, `retry_scheduled`, ...)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    gateway_calls: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dict(sorted(self.outcomes.items())), "gateway_calls": self.gateway_calls, "elapsed_s": self.elapsed_s}


def run_workers(work: Callable[[], tuple[Counter[str], int]], concurrency: int, name: str) -> RunSummary:
    """Run `work` on `concurrency` threads at once and add up what each did (its outcomes and gateway
    calls), timed as one run. Each worker claims its own rows, so they never share one."""
    started = time.monotonic()
    summary = RunSummary()
    lock = threading.Lock()

    def run() -> None:
        outcomes, calls = work()
        with lock:
            summary.outcomes.update(outcomes)
            summary.gateway_calls += calls

    with ThreadPoolExecutor(concurrency, thread_name_prefix=name) as pool:
        for future in [pool.submit(run) for _ in range(concurrency)]:
            future.result()
    summary.elapsed_s = round(time.monotonic() - started, 3)
    return summary
