"""Rate limits that hold across worker processes, without a database round trip per request.

State lives in PostgreSQL (`rate_limit_counters`: one row per bucket and one-minute window), the one
store every worker and every host already shares, so no Redis needs running, securing and
monitoring. Each worker counts hits locally and adds them to the shared row in one upsert when it has
`batch` unflushed hits or its last flush is older than `sync_interval_s`; the upsert returns the
global total. A request is refused when the last known global total plus the local unflushed hits
reach the limit. Small limits (batch 1) are therefore exact across workers; large ones may admit at
most `workers x batch` extra hits per window (batch is 1% of the limit), in exchange for about one
round trip per worker per bucket per second instead of one per request.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import sqlalchemy as sa
import structlog

from domain.platform.sql import statement

log = structlog.get_logger(__name__)

WINDOW_S = 60
_MAX_BATCH = 1000
_MAX_BUCKETS = 50_000
_CLEANUP_EVERY = 500


@dataclass(slots=True)
class _Bucket:
    window: int
    shared: int = 0
    pending: int = 0
    synced_at: float = -math.inf


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    retry_after_s: int = 0
    flush: bool = False


class SharedRateLimiter:
    """Fixed one-minute windows per bucket (an API key, a source address), counted in PostgreSQL."""

    def __init__(self, engine: sa.Engine, sync_interval_s: float) -> None:
        self._engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        self._sync_interval_s = sync_interval_s
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._flushes = 0

    def hit(self, bucket: str, limit: int, now: float | None = None) -> Decision:
        """Count one hit locally (no I/O). `flush` asks the caller to run `flush` (off the event loop)."""
        now = time.time() if now is None else now
        window = int(now) // WINDOW_S * WINDOW_S
        retry_after = max(1, math.ceil(window + WINDOW_S - now))
        with self._lock:
            state = self._buckets.get(bucket)
            if state is None or state.window != window:
                if len(self._buckets) >= _MAX_BUCKETS:
                    self._buckets = {k: v for k, v in self._buckets.items() if v.window == window}
                state = self._buckets[bucket] = _Bucket(window)
            if state.shared + state.pending >= limit:
                return Decision(False, retry_after)
            state.pending += 1
            batch = max(1, min(limit // 100, _MAX_BATCH))
            due = state.pending >= batch or time.monotonic() - state.synced_at >= self._sync_interval_s
            return Decision(True, retry_after, flush=due)

    def flush(self, bucket: str, limit: int) -> Decision:
        """Add this worker's unflushed hits to the shared counter; refuse if the total is over the limit."""
        with self._lock:
            state = self._buckets.get(bucket)
            if state is None or state.pending == 0:
                return Decision(True)
            window, hits = state.window, state.pending
            state.pending = 0
            state.shared += hits  # counted until the shared total replaces it
            state.synced_at = time.monotonic()
            self._flushes += 1
            cleanup = self._flushes % _CLEANUP_EVERY == 0
        retry_after = max(1, math.ceil(window + WINDOW_S - time.time()))
        try:
            with self._engine.connect() as conn:
                total = int(
                    conn.execute(
                        statement("api/rate_limit_add"), {"bucket": bucket, "window": window, "hits": hits}
                    ).scalar_one()
                )
                if cleanup:
                    conn.execute(statement("api/rate_limit_cleanup"))
        except sa.exc.SQLAlchemyError as exc:
            log.warning("rate_limit_flush_failed", error_type=type(exc).__name__)
            return Decision(True)  # fail open: the request itself will meet the database next
        with self._lock:
            current = self._buckets.get(bucket)
            if current is not None and current.window == window:
                current.shared = max(current.shared, total)
        return Decision(total <= limit, retry_after)
