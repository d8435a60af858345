"""Moving payout money through the gateway: batch creation, submission, status polling, webhooks.

Submission protocol, per payout (crash-safe at every step, safe under concurrent runs):

1. A worker claims one due payout `FOR NO KEY UPDATE SKIP LOCKED` on its *lock* connection and keeps
   that transaction open until the payout's outcome is recorded. A second run skips the row; if the
   process dies, PostgreSQL drops the lock with the connection.
2. An earlier attempt whose outcome is not known (a crash, a timeout, a dropped response) or that
   failed is first resolved by a status query (`find_payout_by_reference`): if the gateway has the
   payout, its state is applied and nothing is sent. Only a payout the gateway does not know is sent
   again, and after an unknown outcome with the *same* idempotency key, so even a request still in
   flight at the gateway cannot become a second payout.
3. The attempt row is committed on the *work* connection BEFORE the gateway call.
4. The answer, the payout's new state, its ledger entries and outbox rows commit together.

Python loops here are over gateway calls only; everything else is set-based SQL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog

from domain import payout_store
from domain.payouts import (
    PayoutRuleError,
    attempt_key,
    attempts_exhausted,
    next_attempt_at,
    target_for_gateway_status,
)
from domain.schema import payout_attempts, payouts, webhook_events
from domain.settings import Settings
from gateways.base import BankDestination, Payout, PayoutRequest, PayoutsGateway, VpaDestination
from gateways.errors import GatewayError, OutcomeUnknownError, RetriableError, WebhookRejected
from gateways.razorpayx_webhooks import parse

log = structlog.get_logger(__name__)

Hook = Callable[[str, str], None]
"""Called with (point, payout_id) at `attempt_recorded`, `gateway_call` and `gateway_answered`."""

NARRATION = "Marketplace payout"

CLAIM = sa.text(
    """
    SELECT p.*, u.name AS payee_name FROM payouts p JOIN users u ON u.user_id = p.payee_id
    WHERE p.status = 'pending' AND p.next_attempt_at <= :started_at
      AND (CAST(:batch_date AS date) IS NULL OR p.batch_date = :batch_date)
      AND (CAST(:payout_ids AS text[]) IS NULL OR p.payout_id = ANY(:payout_ids))
      AND NOT EXISTS (SELECT 1 FROM payee_holds h WHERE h.payee_id = p.payee_id AND h.released_at IS NULL)
    ORDER BY p.next_attempt_at, p.payout_id
    LIMIT 1
    FOR NO KEY UPDATE OF p SKIP LOCKED
    """
)


@dataclass(frozen=True, slots=True)
class SubmitOptions:
    concurrency: int = 4
    requests_per_second: float = 20.0
    max_attempts: int = 5
    backoff_base_s: float = 30.0
    backoff_max_s: float = 3600.0
    batch_date: dt.date | None = None
    payout_ids: tuple[str, ...] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> SubmitOptions:
        return cls(
            concurrency=settings.payout_concurrency,
            requests_per_second=settings.payout_requests_per_second,
            max_attempts=settings.payout_max_attempts,
            backoff_base_s=settings.payout_backoff_base_s,
            backoff_max_s=settings.payout_backoff_max_s,
            **overrides,
        )


@dataclass
class SubmitSummary:
    """What one submission run did, by outcome (`submitted`, `completed`, `retry_scheduled`, ...)."""

    outcomes: Counter[str] = field(default_factory=Counter)
    gateway_calls: int = 0
    elapsed_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**dict(sorted(self.outcomes.items())), "gateway_calls": self.gateway_calls, "elapsed_s": self.elapsed_s}


class RateLimiter:
    """At most `per_second` acquisitions a second across threads, evenly spaced."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = time.monotonic()
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next)
            self._next = slot + self._interval
        if slot > now:
            time.sleep(slot - now)


# -- batch creation -------------------------------------------------------------------------------


def create_batch(conn: sa.Connection, day: dt.date, statement: Callable[[str], sa.TextClause]) -> dict[str, Any]:
    """Create the day's payouts (sql/payouts_batch.sql) and report who was held back and why."""
    payout_store.lock_creation(conn)
    created, amount = conn.execute(statement("payouts_batch"), {"day": day}).one()
    held = [dict(row._mapping) for row in conn.execute(statement("payouts_held_back"), {"day": day})]
    if held:
        log.warning("payees_held_back", day=str(day), count=len(held), reasons=dict(Counter(r["reason"] for r in held)))
    return {"payouts_created": int(created), "amount_paise": int(amount), "held_back": held}


# -- submission -----------------------------------------------------------------------------------


def destination_of(stored: dict[str, Any]) -> VpaDestination | BankDestination:
    """The gateway destination of a stored `users.payout_destination` snapshot."""
    if "vpa" in stored:
        return VpaDestination(str(stored["vpa"]))
    return BankDestination(str(stored["account_number"]), str(stored["ifsc"]), str(stored["account_name"]))


def payout_request(row: Any) -> PayoutRequest:
    return PayoutRequest(
        reference_id=row.payout_id,
        amount_paise=int(row.amount_paise),
        destination=destination_of(row.destination),
        contact_name=row.payee_name,
        contact_reference_id=row.payee_id,
        narration=NARRATION,
    )


def facts_of(payout: Payout) -> payout_store.GatewayFacts:
    return payout_store.GatewayFacts(
        gateway_payout_id=payout.gateway_payout_id,
        gateway_status=payout.status,
        utr=payout.utr,
        failure_reason=payout.failure_reason,
        response=dataclasses.asdict(payout),
    )


def apply_gateway_payout(conn: sa.Connection, row: Any, payout: Payout) -> tuple[str, ...]:
    """Apply what the gateway reports about a locked payout; its state decides ours."""
    return payout_store.transition(conn, row, target_for_gateway_status(payout.status), facts=facts_of(payout))


def submit_pending(
    engine: sa.Engine,
    gateway: PayoutsGateway,
    options: SubmitOptions,
    *,
    hook: Hook | None = None,
    rng: random.Random | None = None,
) -> SubmitSummary:
    """Submit every due pending payout once, with `options.concurrency` workers and a rate cap."""
    started = time.monotonic()
    started_at = dt.datetime.now(dt.UTC)
    summary = SubmitSummary()
    limiter = RateLimiter(options.requests_per_second)
    lock = threading.Lock()
    worker = _Worker(engine, gateway, options, limiter, hook, rng or random.Random(), started_at)

    def run() -> None:
        outcomes, calls = worker.run()
        with lock:
            summary.outcomes.update(outcomes)
            summary.gateway_calls += calls

    with ThreadPoolExecutor(options.concurrency, thread_name_prefix="payout") as pool:
        for future in [pool.submit(run) for _ in range(options.concurrency)]:
            future.result()
    summary.elapsed_s = round(time.monotonic() - started, 3)
    log.info("payouts_submitted", **summary.as_dict())
    return summary


@dataclass
class _Worker:
    engine: sa.Engine
    gateway: PayoutsGateway
    options: SubmitOptions
    limiter: RateLimiter
    hook: Hook | None
    rng: random.Random
    started_at: dt.datetime

    def run(self) -> tuple[Counter[str], int]:
        outcomes: Counter[str] = Counter()
        calls = 0
        params = {
            "started_at": self.started_at,
            "batch_date": self.options.batch_date,
            "payout_ids": list(self.options.payout_ids) if self.options.payout_ids is not None else None,
        }
        with self.engine.connect() as lock_conn, self.engine.connect() as work_conn:
            while True:
                with lock_conn.begin():
                    row = lock_conn.execute(CLAIM, params).first()
                    if row is None:
                        return outcomes, calls
                    outcome, made = self._process(lock_conn, work_conn, row)
                outcomes[outcome] += 1
                calls += made

    def _point(self, point: str, payout_id: str) -> None:
        if self.hook is not None:
            self.hook(point, payout_id)

    def _process(self, conn: sa.Connection, work: sa.Connection, row: Any) -> tuple[str, int]:
        """One claimed payout: resolve any earlier attempt, else make one; returns (outcome, create calls)."""
        attempts = conn.execute(
            sa.select(payout_attempts)
            .where(payout_attempts.c.payout_id == row.payout_id)
            .order_by(payout_attempts.c.attempt_number)
        ).all()
        reuse_key: str | None = None
        if attempts and attempts[-1].outcome != "rejected":
            last = attempts[-1]
            try:
                found = self.gateway.find_payout_by_reference(row.payout_id)
            except GatewayError as exc:
                self._wait(conn, row, len(attempts), getattr(exc, "retry_after_s", None))
                log.warning("payout_status_query_failed", payout_id=row.payout_id, error=str(exc))
                return "status_unknown", 0
            if found is not None:
                self._answer(conn, last, "found" if last.outcome in (None, "unknown") else last.outcome, payout=found)
                steps = apply_gateway_payout(conn, row, found)
                log.info("payout_resolved_by_status_query", payout_id=row.payout_id, status=found.status, steps=steps)
                return "resolved", 0
            if last.outcome in (None, "unknown"):
                self._answer(conn, last, "not_found")
                reuse_key = last.idempotency_key
        if reuse_key is None and attempts_exhausted(len(attempts), self.options.max_attempts):
            reason = f"attempts exhausted: {attempts[-1].error or attempts[-1].outcome}"
            payout_store.transition(conn, row, "failed", failure_reason=reason[:500])
            return "failed", 0
        return self._attempt(conn, work, row, len(attempts) + 1, reuse_key)

    def _attempt(
        self, conn: sa.Connection, work: sa.Connection, row: Any, number: int, reuse_key: str | None
    ) -> tuple[str, int]:
        key = reuse_key or attempt_key(row.payout_id, number)
        with work.begin():
            attempt = work.execute(
                sa.insert(payout_attempts)
                .values(payout_id=row.payout_id, attempt_number=number, idempotency_key=key)
                .returning(payout_attempts.c.payout_attempt_id)
            ).one()
        self._point("attempt_recorded", row.payout_id)
        self.limiter.acquire()
        self._point("gateway_call", row.payout_id)
        try:
            answer: Payout | GatewayError = self.gateway.create_payout(key, payout_request(row))
        except GatewayError as exc:
            answer = exc
        self._point("gateway_answered", row.payout_id)
        counted = {"attempt_count": number}
        if isinstance(answer, Payout):
            self._answer(conn, attempt, "accepted", payout=answer)
            target = target_for_gateway_status(answer.status)
            payout_store.transition(conn, row, target, facts=facts_of(answer), also=counted)
            return "submitted", 1
        if isinstance(answer, RetriableError):
            self._answer(conn, attempt, "retriable", error=answer)
            if attempts_exhausted(number, self.options.max_attempts):
                reason = f"attempts exhausted: {answer}"[:500]
                payout_store.transition(conn, row, "failed", failure_reason=reason, also=counted)
                return "failed", 1
            self._wait(conn, row, number, answer.retry_after_s)
            return "retry_scheduled", 1
        if isinstance(answer, OutcomeUnknownError):
            self._answer(conn, attempt, "unknown", error=answer)
            self._wait(conn, row, number, None)
            log.warning("payout_outcome_unknown", payout_id=row.payout_id, error=str(answer))
            return "outcome_unknown", 1
        self._answer(conn, attempt, "rejected", error=answer)
        reason = f"rejected by the gateway: {answer}"[:500]
        payout_store.transition(conn, row, "failed", failure_reason=reason, also=counted)
        return "rejected", 1

    def _answer(
        self,
        conn: sa.Connection,
        attempt: Any,
        outcome: str | None,
        *,
        payout: Payout | None = None,
        error: GatewayError | None = None,
    ) -> None:
        values: dict[str, Any] = {
            "outcome": outcome,
            "answered_at": sa.func.coalesce(payout_attempts.c.answered_at, sa.func.now()),
        }
        if payout is not None:
            values.update(
                gateway_payout_id=payout.gateway_payout_id, response=dataclasses.asdict(payout), http_status=200
            )
        if error is not None:
            values.update(
                http_status=error.http_status,
                gateway_error_code=error.gateway_code,
                error=f"{type(error).__name__}: {error}"[:500],
                response={"body": error.response_body[:2000]} if error.response_body else None,
            )
        conn.execute(
            sa.update(payout_attempts)
            .where(payout_attempts.c.payout_attempt_id == attempt.payout_attempt_id)
            .values(**values)
        )

    def _wait(self, conn: sa.Connection, row: Any, attempts: int, retry_after_s: float | None) -> None:
        when = next_attempt_at(
            dt.datetime.now(dt.UTC),
            max(attempts, 1),
            self.options.backoff_base_s,
            self.options.backoff_max_s,
            self.rng,
            retry_after_s,
        )
        conn.execute(
            sa.update(payouts)
            .where(payouts.c.payout_id == row.payout_id)
            .values(next_attempt_at=when, attempt_count=attempts, updated_at=sa.func.now())
        )


# -- status: polling and webhooks -----------------------------------------------------------------


def poll_in_flight(engine: sa.Engine, gateway: PayoutsGateway, *, older_than_s: float = 0.0) -> Counter[str]:
    """Ask the gateway about every payout in `processing` not updated for `older_than_s` seconds."""
    with engine.connect() as conn:
        due = (
            conn.execute(
                sa.select(payouts.c.payout_id)
                .where(payouts.c.status == "processing")
                .where(payouts.c.updated_at <= sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, older_than_s))
                .order_by(payouts.c.updated_at)
            )
            .scalars()
            .all()
        )
    outcomes: Counter[str] = Counter()
    for payout_id in due:
        with engine.begin() as conn:
            row = payout_store.lock_payout(conn, payout_id, skip_locked=True)
            if row is None or row.status != "processing":
                outcomes["skipped"] += 1
                continue
            try:
                payout = (
                    gateway.fetch_payout(row.gateway_payout_id)
                    if row.gateway_payout_id
                    else gateway.find_payout_by_reference(payout_id)
                )
            except GatewayError as exc:
                log.warning("payout_poll_failed", payout_id=payout_id, error=str(exc))
                outcomes["unavailable"] += 1
                continue
            if payout is None:
                outcomes["not_found"] += 1
                continue
            steps = apply_gateway_payout(conn, row, payout)
            outcomes[steps[-1] if steps else "unchanged"] += 1
    return outcomes


def apply_webhooks(engine: sa.Engine, *, limit: int = 500) -> Counter[str]:
    """Apply stored, verified RazorpayX payout events (POST /v1/webhooks/razorpayx) to the payouts.

    Duplicates never reach here (the API deduplicates on the event id); out-of-order events only ever
    move a payout forward (`domain.payouts.path_to`). An event for a payout a submission is holding
    stays unprocessed for the next run.
    """
    outcomes: Counter[str] = Counter()
    w = webhook_events.c
    with engine.connect() as conn:
        pending = (
            conn.execute(
                sa.select(w.webhook_event_id)
                .where(w.source == "razorpayx", w.verdict == "accepted", w.processed_at.is_(None))
                .order_by(w.webhook_event_id)
                .limit(limit)
            )
            .scalars()
            .all()
        )
    for event_row_id in pending:
        with engine.begin() as conn:
            outcomes[_apply_webhook(conn, event_row_id)] += 1
    return outcomes


def _apply_webhook(conn: sa.Connection, webhook_event_id: int) -> str:
    w = webhook_events.c
    stored = conn.execute(
        sa.select(webhook_events)
        .where(w.webhook_event_id == webhook_event_id, w.processed_at.is_(None))
        .with_for_update(skip_locked=True)
    ).first()
    if stored is None:
        return "skipped"
    try:
        event = parse(bytes(stored.raw_body), stored.event_key)
    except WebhookRejected as exc:
        return _settle_webhook(conn, webhook_event_id, "anomaly", f"unparseable:{exc.reason}")
    payout_id = conn.execute(
        sa.select(payouts.c.payout_id).where(
            sa.or_(payouts.c.gateway_payout_id == event.gateway_payout_id, payouts.c.payout_id == event.reference_id)
        )
    ).scalar()
    if payout_id is None:
        return _settle_webhook(conn, webhook_event_id, "anomaly", "unknown_payout")
    row = payout_store.lock_payout(conn, payout_id, skip_locked=True)
    if row is None:
        return "busy"
    if event.amount_paise != row.amount_paise:
        return _settle_webhook(conn, webhook_event_id, "anomaly", "amount_mismatch")
    facts = payout_store.GatewayFacts(
        gateway_payout_id=event.gateway_payout_id,
        gateway_status=event.status,
        utr=event.utr,
        failure_reason=event.failure_reason,
        response={"webhook_event_id": webhook_event_id, "event": event.event, "status": event.status},
    )
    steps = payout_store.transition(conn, row, target_for_gateway_status(event.status), facts=facts)
    reason = "applied:" + ",".join(steps) if steps else "already_applied"
    return _settle_webhook(conn, webhook_event_id, "accepted", reason)


def _settle_webhook(conn: sa.Connection, webhook_event_id: int, verdict: str, reason: str) -> str:
    conn.execute(
        sa.update(webhook_events)
        .where(webhook_events.c.webhook_event_id == webhook_event_id)
        .values(verdict=verdict, reason=reason, processed_at=sa.func.now())
    )
    return reason.split(":", 1)[0]


def retry_payouts(engine: sa.Engine, payout_ids: Sequence[str], actor: str) -> dict[str, str]:
    """Finance: retry each given payout; the answer per payout is the payout to attempt or the refusal."""
    return _each(engine, payout_ids, lambda conn, pid: payout_store.retry_payout(conn, pid, actor))


def cancel_payouts(engine: sa.Engine, payout_ids: Sequence[str], actor: str, reason: str) -> dict[str, str]:
    return _each(engine, payout_ids, lambda conn, pid: payout_store.cancel_payout(conn, pid, actor, reason))


def _each(engine: sa.Engine, payout_ids: Sequence[str], action: Callable[[sa.Connection, str], str]) -> dict[str, str]:
    results: dict[str, str] = {}
    for payout_id in payout_ids:
        try:
            with engine.begin() as conn:
                results[payout_id] = action(conn, payout_id)
        except PayoutRuleError as exc:
            results[payout_id] = f"refused: {exc.code}: {exc}"
    return results
