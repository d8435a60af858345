"""Sending approved refunds to PhonePe, crash-safe at every step and safe under concurrent runs.

Per refund:

1. A worker claims one due refund `FOR NO KEY UPDATE SKIP LOCKED` on its *lock* connection and keeps
   that transaction open until the outcome is recorded; a second run skips it, and a dead process's
   lock goes with its connection.
2. If an earlier create was made, the refund is first asked for by status (PhonePe knows it by our
   `merchantRefundId`, the refund id): found, its state is applied and nothing is sent. Only a refund
   the gateway says it does not have is sent again, under the same `merchantRefundId`, which PhonePe
   never accepts twice; so even a create still in flight cannot become a second refund.
3. The attempt row is committed on the *work* connection BEFORE the create call.
4. The answer, the refund's new state, and (on completion) its ledger entry, subledger rows and
   notices commit together.

A create the gateway refuses (4xx) fails the refund; retriable errors and unknown outcomes wait with
exponential backoff and jitter; after `max_attempts` creates the gateway never received, it fails.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog

from domain.platform.database import create_engine
from domain.platform.gateway_errors import FinalError, GatewayError, NotFoundError, OutcomeUnknownError, RetriableError
from domain.platform.retry import RateLimiter, attempts_exhausted, next_attempt_at
from domain.platform.settings import Settings
from domain.platform.sql import statement
from domain.refunds import store
from domain.refunds.gateway import RefundsGateway, RefundStatus
from domain.refunds.tables import refund_attempts, refunds

log = structlog.get_logger(__name__)

Hook = Callable[[str, str], None]
"""Called with (point, refund_id) at `attempt_recorded`, `gateway_call` and `gateway_answered`."""


@dataclass(frozen=True, slots=True)
class RefundOptions:
    concurrency: int = 4
    requests_per_second: float = 20.0
    max_attempts: int = 5
    backoff_base_s: float = 30.0
    backoff_max_s: float = 3600.0
    poll_base_s: float = 60.0
    stuck_after_h: float = 48.0
    refund_ids: tuple[str, ...] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RefundOptions:
        configured: dict[str, Any] = {
            "concurrency": settings.refund_concurrency,
            "requests_per_second": settings.refund_requests_per_second,
            "max_attempts": settings.refund_max_attempts,
            "backoff_base_s": settings.refund_backoff_base_s,
            "backoff_max_s": settings.refund_backoff_max_s,
            "poll_base_s": settings.refund_poll_base_s,
            "stuck_after_h": settings.refund_stuck_after_h,
        }
        return cls(**{**configured, **overrides})


@dataclass
class RefundRunSummary:
    """What one run did, by outcome (`submitted`, `completed`, `retry_scheduled`, ...)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    gateway_calls: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dict(sorted(self.outcomes.items())), "gateway_calls": self.gateway_calls, "elapsed_s": self.elapsed_s}


def apply_gateway_state(
    conn: sa.Connection, row: Any, status: RefundStatus, now: dt.datetime, options: RefundOptions, rng: random.Random
) -> str:
    """Apply what PhonePe says about a locked refund: completed, failed, or still with the gateway."""
    facts = store.facts_of(status)
    if status.amount_paise != row.amount_paise:
        log.error("refund_amount_differs", refund_id=row.refund_id, ours=row.amount_paise, gateway=status.amount_paise)
        store.mark_submitted(conn, row, facts, now, now + dt.timedelta(seconds=options.backoff_max_s))
        return "amount_differs"
    if status.state == "COMPLETED":
        store.complete(conn, row, facts, now)
        return "completed"
    if status.state == "FAILED":
        store.fail(conn, row, "the gateway failed the refund", now, facts)
        return "failed"
    checks = int(row.status_checks) if row.status == "submitted" else 0
    when = next_attempt_at(now, checks + 1, options.poll_base_s, options.backoff_max_s, rng)
    store.mark_submitted(conn, row, facts, now, when)
    return "submitted"


def run_submission(
    url: str, gateway: RefundsGateway, options: RefundOptions, *, now: dt.datetime, hook: Hook | None = None
) -> RefundRunSummary:
    """`submit_due` on its own engine: two connections per worker (the claim's lock, the attempts)."""
    engine = create_engine(url, pool_size=2 * options.concurrency + 1)
    try:
        return submit_due(engine, gateway, options, now=now, hook=hook)
    finally:
        engine.dispose()


def submit_due(
    engine: sa.Engine,
    gateway: RefundsGateway,
    options: RefundOptions,
    *,
    now: dt.datetime,
    hook: Hook | None = None,
    rng: random.Random | None = None,
) -> RefundRunSummary:
    """Submit every refund due at `now` once, with `options.concurrency` workers and a rate cap."""
    started = time.monotonic()
    summary = RefundRunSummary()
    lock = threading.Lock()
    worker = _Worker(
        engine, gateway, options, RateLimiter(options.requests_per_second), hook, rng or random.Random(), now
    )

    def run() -> None:
        outcomes, calls = worker.run()
        with lock:
            summary.outcomes.update(outcomes)
            summary.gateway_calls += calls

    with ThreadPoolExecutor(options.concurrency, thread_name_prefix="refund") as pool:
        for future in [pool.submit(run) for _ in range(options.concurrency)]:
            future.result()
    summary.elapsed_s = round(time.monotonic() - started, 3)
    log.info("refunds_submitted", **summary.as_dict())
    return summary


@dataclass
class _Worker:
    engine: sa.Engine
    gateway: RefundsGateway
    options: RefundOptions
    limiter: RateLimiter
    hook: Hook | None
    rng: random.Random
    now: dt.datetime

    def run(self) -> tuple[Counter[str], int]:
        outcomes: Counter[str] = Counter()
        calls = 0
        ids = list(self.options.refund_ids) if self.options.refund_ids is not None else None
        params = {"now": self.now, "refund_ids": ids}
        with self.engine.connect() as lock_conn, self.engine.connect() as work_conn:
            while True:
                with lock_conn.begin():
                    row = lock_conn.execute(statement("refunds/claim"), params).first()
                    if row is None:
                        return outcomes, calls
                    outcome, made = self._process(lock_conn, work_conn, row)
                outcomes[outcome] += 1
                calls += made

    def _point(self, point: str, refund_id: str) -> None:
        if self.hook is not None:
            self.hook(point, refund_id)

    def _process(self, conn: sa.Connection, work: sa.Connection, row: Any) -> tuple[str, int]:
        """One claimed refund: resolve an earlier create by status, else make one; (outcome, create calls)."""
        attempts = conn.execute(
            sa.select(refund_attempts)
            .where(refund_attempts.c.refund_id == row.refund_id)
            .order_by(refund_attempts.c.attempt_number)
        ).all()
        if attempts:
            try:
                found: RefundStatus | None = self.gateway.refund_status(row.refund_id)
            except NotFoundError:
                found = None
            except GatewayError as exc:
                self._wait(conn, row, len(attempts), getattr(exc, "retry_after_s", None))
                log.warning("refund_status_query_failed", refund_id=row.refund_id, error=str(exc))
                return "status_unknown", 0
            last = attempts[-1]
            if found is not None:
                self._answer(conn, last, "found" if last.outcome != "accepted" else "accepted", status=found)
                outcome = apply_gateway_state(conn, row, found, self.now, self.options, self.rng)
                log.info("refund_resolved_by_status_query", refund_id=row.refund_id, state=found.state)
                return f"resolved_{outcome}", 0
            if last.outcome in (None, "unknown"):
                self._answer(conn, last, "not_found")
            if attempts_exhausted(len(attempts), self.options.max_attempts):
                reason = f"attempts exhausted, the gateway never received it: {last.error or last.outcome}"
                store.fail(conn, row, reason, self.now)
                return "failed", 0
        return self._attempt(conn, work, row, len(attempts) + 1)

    def _attempt(self, conn: sa.Connection, work: sa.Connection, row: Any, number: int) -> tuple[str, int]:
        with work.begin():
            attempt = work.execute(
                sa.insert(refund_attempts)
                .values(refund_id=row.refund_id, attempt_number=number)
                .returning(refund_attempts.c.refund_attempt_id)
            ).one()
        self._point("attempt_recorded", row.refund_id)
        self.limiter.acquire()
        self._point("gateway_call", row.refund_id)
        try:
            answer: RefundStatus | GatewayError = self.gateway.create_refund(
                row.refund_id, row.order_id, int(row.amount_paise)
            )
        except GatewayError as exc:
            answer = exc
        self._point("gateway_answered", row.refund_id)
        conn.execute(sa.update(refunds).where(refunds.c.refund_id == row.refund_id).values(attempt_count=number))
        if isinstance(answer, RefundStatus):
            self._answer(conn, attempt, "accepted", status=answer)
            return apply_gateway_state(conn, row, answer, self.now, self.options, self.rng), 1
        if isinstance(answer, RetriableError | OutcomeUnknownError):
            self._answer(conn, attempt, "retriable" if isinstance(answer, RetriableError) else "unknown", error=answer)
            self._wait(conn, row, number, getattr(answer, "retry_after_s", None))
            log.warning("refund_create_unresolved", refund_id=row.refund_id, error=str(answer))
            return ("retry_scheduled" if isinstance(answer, RetriableError) else "outcome_unknown"), 1
        assert isinstance(answer, FinalError)
        self._answer(conn, attempt, "rejected", error=answer)
        store.fail(conn, row, f"rejected by the gateway: {answer}", self.now)
        return "rejected", 1

    def _answer(
        self,
        conn: sa.Connection,
        attempt: Any,
        outcome: str | None,
        *,
        status: RefundStatus | None = None,
        error: GatewayError | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "outcome": outcome,
            "answered_at": sa.func.coalesce(refund_attempts.c.answered_at, sa.func.now()),
        }
        if status is not None:
            values.update(gateway_refund_id=status.refund_id, response=store.facts_of(status).response, http_status=200)
        if error is not None:
            values.update(
                http_status=error.http_status,
                gateway_error_code=error.gateway_code,
                error=f"{type(error).__name__}: {error}"[:500],
                response={"body": error.response_body[:2000]} if error.response_body else None,
            )
        conn.execute(
            sa.update(refund_attempts)
            .where(refund_attempts.c.refund_attempt_id == attempt.refund_attempt_id)
            .values(**values)
        )

    def _wait(self, conn: sa.Connection, row: Any, attempts: int, retry_after_s: float | None) -> None:
        when = next_attempt_at(
            self.now, max(attempts, 1), self.options.backoff_base_s, self.options.backoff_max_s, self.rng, retry_after_s
        )
        conn.execute(
            sa.update(refunds)
            .where(refunds.c.refund_id == row.refund_id)
            .values(next_attempt_at=when, updated_at=sa.func.now())
        )
