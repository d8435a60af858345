"""Sending approved refunds to PhonePe, crash-safe at every step and safe under concurrent runs.

Each worker submits due refunds a batch at a time, so a claim and two commits serve a whole batch
rather than each refund; the workers run side by side, each making its batch's calls in turn.

1. The worker claims a batch of due refunds `FOR NO KEY UPDATE SKIP LOCKED` on its *lock* connection
   and keeps that transaction open until the batch's outcomes are recorded; another run skips them,
   and a dead process's locks go with its connection. The transaction only reads until then, so no
   ledger or order lock is held across a gateway call.
2. A refund created before is first asked for by status (PhonePe knows it by our `merchantRefundId`,
   the refund id): found, its state is applied and nothing is sent. Only a refund the gateway says it
   does not have is sent again, under the same `merchantRefundId`, which PhonePe never accepts twice;
   so even a create still in flight cannot become a second refund.
3. The attempt rows of all the batch's creates commit together on the *work* connection BEFORE the
   first create call; then the creates are made.
4. The answers, the refunds' new states and (on completion) their ledger entries, subledger rows and
   notices commit together, once for the batch: the attempts' answers in one statement, the refunds
   the gateway is working on (what a create usually hears) in another, any other change per refund.

A crash loses at most the answers of the batches in flight; their attempts were committed, so the
next run asks for each by status rather than sending it again.

A create the gateway refuses (4xx) fails the refund; retriable errors and unknown outcomes wait with
exponential backoff and jitter; after `max_attempts` creates the gateway never received, it fails.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog

from domain.platform.database import create_engine
from domain.platform.gateway_errors import FinalError, GatewayError, NotFoundError, OutcomeUnknownError, RetriableError
from domain.platform.retry import RateLimiter, attempts_exhausted, next_attempt_at
from domain.platform.runs import RunSummary, run_workers
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
    """How a run submits. `batch_size` is how many refunds a worker claims at once: larger batches
    spread the claim and the commits over more refunds, smaller ones hold their locks for less time
    and leave fewer answers to status queries after a crash."""

    concurrency: int = 4
    requests_per_second: float = 20.0
    max_attempts: int = 5
    backoff_base_s: float = 30.0
    backoff_max_s: float = 3600.0
    poll_base_s: float = 60.0
    stuck_after_h: float = 48.0
    batch_size: int = 20
    refund_ids: tuple[str, ...] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RefundOptions:
        configured: dict[str, Any] = {
            "concurrency": settings.refund_concurrency,
            "requests_per_second": settings.refund_requests_per_second,
            "batch_size": settings.refund_batch_size,
            "max_attempts": settings.refund_max_attempts,
            "backoff_base_s": settings.refund_backoff_base_s,
            "backoff_max_s": settings.refund_backoff_max_s,
            "poll_base_s": settings.refund_poll_base_s,
            "stuck_after_h": settings.refund_stuck_after_h,
        }
        return cls(**{**configured, **overrides})


def apply_gateway_state(
    conn: sa.Connection, row: Any, status: RefundStatus, now: dt.datetime, options: RefundOptions, rng: random.Random
) -> str:
    """Apply what PhonePe says about a locked refund: completed, failed, or still with the gateway."""
    [outcome] = apply_gateway_states(conn, [(row, status)], now, options, rng)
    return outcome


def apply_gateway_states(
    conn: sa.Connection,
    said: Sequence[tuple[Any, RefundStatus]],
    now: dt.datetime,
    options: RefundOptions,
    rng: random.Random,
) -> list[str]:
    """`apply_gateway_state` for many locked refunds; those still with the gateway in one statement."""
    waiting: list[store.StillWithGateway] = []
    outcomes = [_apply(conn, row, status, now, options, rng, waiting) for row, status in said]
    store.mark_submitted(conn, waiting, now)
    return outcomes


def _apply(
    conn: sa.Connection,
    row: Any,
    status: RefundStatus,
    now: dt.datetime,
    options: RefundOptions,
    rng: random.Random,
    waiting: list[store.StillWithGateway],
) -> str:
    """A completion or failure applied now; a refund still with the gateway joins `waiting`."""
    facts = store.facts_of(status)
    if status.amount_paise != row.amount_paise:
        log.error("refund_amount_differs", refund_id=row.refund_id, ours=row.amount_paise, gateway=status.amount_paise)
        waiting.append(store.StillWithGateway(row.refund_id, facts, now + dt.timedelta(seconds=options.backoff_max_s)))
        return "amount_differs"
    if status.state == "COMPLETED":
        store.complete(conn, row, facts, now)
        return "completed"
    if status.state == "FAILED":
        store.fail(conn, row, "the gateway failed the refund", now, facts)
        return "failed"
    checks = int(row.status_checks) if row.status == "submitted" else 0
    when = next_attempt_at(now, checks + 1, options.poll_base_s, options.backoff_max_s, rng)
    waiting.append(store.StillWithGateway(row.refund_id, facts, when))
    return "submitted"


def run_submission(
    url: str, gateway: RefundsGateway, options: RefundOptions, *, now: dt.datetime, hook: Hook | None = None
) -> RunSummary:
    """`submit_due` on its own engine: two connections per worker (the batch's locks, its attempts)."""
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
) -> RunSummary:
    """Submit every refund due at `now` once, with `options.concurrency` workers and a rate cap."""
    worker = _Worker(
        engine, gateway, options, RateLimiter(options.requests_per_second), hook, rng or random.Random(), now
    )
    summary = run_workers(worker.run, options.concurrency, "refund")
    log.info("refunds_submitted", **summary.as_dict())
    return summary


def _answer(
    attempt_id: int, outcome: str, status: RefundStatus | None = None, error: GatewayError | None = None
) -> dict[str, Any]:
    """An attempt's answer, a row of `sql/refunds/answers.sql`."""
    answer: dict[str, Any] = {"refund_attempt_id": attempt_id, "outcome": outcome}
    if status is not None:
        answer.update(gateway_refund_id=status.refund_id, response=store.facts_of(status).response, http_status=200)
    if error is not None:
        answer.update(
            http_status=error.http_status,
            gateway_error_code=error.gateway_code,
            error=f"{type(error).__name__}: {error}"[:500],
            response={"body": error.response_body[:2000]} if error.response_body else None,
        )
    return answer


def _create_outcome(answer: GatewayError) -> str:
    if isinstance(answer, RetriableError):
        return "retriable"
    if isinstance(answer, OutcomeUnknownError):
        return "unknown"
    assert isinstance(answer, FinalError)
    return "rejected"


@dataclass
class _Claimed:
    """A refund of the batch and what the gateway said of it, recorded when the batch ends."""

    row: Any
    earlier: Sequence[Any]
    status: RefundStatus | GatewayError | None = None
    attempt_id: int | None = None
    answer: RefundStatus | GatewayError | None = None

    @property
    def number(self) -> int:
        """The number of the create this run makes."""
        return len(self.earlier) + 1

    def create_due(self, max_attempts: int) -> bool:
        """Never created, or the gateway never received the earlier creates and attempts are left."""
        if not self.earlier:
            return True
        return isinstance(self.status, NotFoundError) and not attempts_exhausted(len(self.earlier), max_attempts)

    @property
    def state(self) -> RefundStatus | None:
        """The refund as the gateway has it, if it said it has it."""
        for said in (self.answer, self.status):
            if isinstance(said, RefundStatus):
                return said
        return None

    def answers(self) -> list[dict[str, Any]]:
        """The answers its attempts get: the earlier create's, by the status query, and this run's create's."""
        noted = []
        if self.earlier:
            last = self.earlier[-1]
            if isinstance(self.status, RefundStatus):
                found = "found" if last.outcome != "accepted" else "accepted"
                noted.append(_answer(last.refund_attempt_id, found, self.status))
            elif isinstance(self.status, NotFoundError) and last.outcome in (None, "unknown"):
                noted.append(_answer(last.refund_attempt_id, "not_found"))
        if self.attempt_id is not None:
            if isinstance(self.answer, RefundStatus):
                noted.append(_answer(self.attempt_id, "accepted", self.answer))
            else:
                assert self.answer is not None
                noted.append(_answer(self.attempt_id, _create_outcome(self.answer), error=self.answer))
        return noted


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
        with self.engine.connect() as lock_conn, self.engine.connect() as work_conn:
            while True:
                with lock_conn.begin():
                    batch = self._claim(lock_conn)
                    if not batch:
                        return outcomes, calls
                    self._ask_status(batch)
                    due = [claimed for claimed in batch if claimed.create_due(self.options.max_attempts)]
                    self._record_attempts(work_conn, due)
                    for claimed in due:
                        self._create(claimed)
                    outcomes.update(self._record(lock_conn, batch))
                calls += len(due)

    def _claim(self, conn: sa.Connection) -> list[_Claimed]:
        """Lock a batch of due refunds and read their earlier attempts."""
        ids = list(self.options.refund_ids) if self.options.refund_ids is not None else None
        params = {"now": self.now, "refund_ids": ids, "limit": self.options.batch_size}
        rows = conn.execute(statement("refunds/claim"), params).all()
        earlier: dict[str, list[Any]] = {row.refund_id: [] for row in rows}
        if rows:
            attempts = conn.execute(
                sa.select(refund_attempts)
                .where(refund_attempts.c.refund_id.in_(list(earlier)))
                .order_by(refund_attempts.c.refund_id, refund_attempts.c.attempt_number)
            )
            for attempt in attempts:
                earlier[attempt.refund_id].append(attempt)
        return [_Claimed(row, earlier[row.refund_id]) for row in rows]

    def _ask_status(self, batch: list[_Claimed]) -> None:
        """Ask the gateway about every refund of the batch created before, before anything is sent."""
        for claimed in batch:
            if claimed.earlier:
                try:
                    claimed.status = self.gateway.refund_status(claimed.row.refund_id)
                except GatewayError as exc:
                    claimed.status = exc

    def _record_attempts(self, work: sa.Connection, due: list[_Claimed]) -> None:
        """Commit the attempt rows of the creates about to be made: from here on a crash is resolved by
        status, never by a blind resend."""
        if not due:
            return
        with work.begin():
            made = work.execute(
                sa.insert(refund_attempts)
                .values([{"refund_id": c.row.refund_id, "attempt_number": c.number} for c in due])
                .returning(refund_attempts.c.refund_id, refund_attempts.c.refund_attempt_id)
            ).all()
        ids: dict[str, int] = {refund_id: attempt_id for refund_id, attempt_id in made}
        for claimed in due:
            claimed.attempt_id = ids[claimed.row.refund_id]

    def _point(self, point: str, refund_id: str) -> None:
        if self.hook is not None:
            self.hook(point, refund_id)

    def _create(self, claimed: _Claimed) -> None:
        row = claimed.row
        self._point("attempt_recorded", row.refund_id)
        self.limiter.acquire()
        self._point("gateway_call", row.refund_id)
        try:
            claimed.answer = self.gateway.create_refund(row.refund_id, row.order_id, int(row.amount_paise))
        except GatewayError as exc:
            claimed.answer = exc
        self._point("gateway_answered", row.refund_id)

    def _record(self, conn: sa.Connection, batch: list[_Claimed]) -> Counter[str]:
        """Write down what the gateway said about the batch; its outcomes."""
        answers = [answer for claimed in batch for answer in claimed.answers()]
        conn.execute(statement("refunds/answers"), {"answers": json.dumps(answers)})
        known = [(claimed, state) for claimed in batch if (state := claimed.state) is not None]
        outcomes = Counter(self._without_state(conn, claimed) for claimed in batch if claimed.state is None)
        said = [(claimed.row, state) for claimed, state in known]
        applied = apply_gateway_states(conn, said, self.now, self.options, self.rng)
        for (claimed, state), outcome in zip(known, applied, strict=True):
            if claimed.attempt_id is None:
                log.info("refund_resolved_by_status_query", refund_id=claimed.row.refund_id, state=state.state)
                outcome = f"resolved_{outcome}"
            outcomes[outcome] += 1
        return outcomes

    def _without_state(self, conn: sa.Connection, claimed: _Claimed) -> str:
        """A refund the gateway gave no state for: it waits, or fails; its outcome."""
        row, status, answer = claimed.row, claimed.status, claimed.answer
        if claimed.attempt_id is None and isinstance(status, NotFoundError):  # not sent again: attempts exhausted
            last = claimed.earlier[-1]
            reason = f"attempts exhausted, the gateway never received it: {last.error or last.outcome}"
            store.fail(conn, row, reason, self.now)
            return "failed"
        if claimed.attempt_id is None:
            self._wait(conn, row, len(claimed.earlier), getattr(status, "retry_after_s", None))
            log.warning("refund_status_query_failed", refund_id=row.refund_id, error=str(status))
            return "status_unknown"
        if isinstance(answer, RetriableError | OutcomeUnknownError):
            self._wait(conn, row, claimed.number, getattr(answer, "retry_after_s", None))
            log.warning("refund_create_unresolved", refund_id=row.refund_id, error=str(answer))
            return "retry_scheduled" if isinstance(answer, RetriableError) else "outcome_unknown"
        store.fail(conn, row, f"rejected by the gateway: {answer}", self.now)
        return "rejected"

    def _wait(self, conn: sa.Connection, row: Any, attempts: int, retry_after_s: float | None) -> None:
        when = next_attempt_at(
            self.now, max(attempts, 1), self.options.backoff_base_s, self.options.backoff_max_s, self.rng, retry_after_s
        )
        conn.execute(
            sa.update(refunds)
            .where(refunds.c.refund_id == row.refund_id)
            .values(next_attempt_at=when, updated_at=sa.func.now())
        )
