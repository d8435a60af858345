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
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog

from domain.ledger import posting
from domain.payouts import store as payout_store
from domain.payouts.gateway import BankDestination, Payout, PayoutRequest, PayoutsGateway, VpaDestination
from domain.payouts.rules import attempt_key, target_for_gateway_status
from domain.payouts.tables import payout_attempts, payouts
from domain.platform.database import create_engine
from domain.platform.gateway_errors import GatewayError, OutcomeUnknownError, RetriableError
from domain.platform.retry import RateLimiter, attempts_exhausted, next_attempt_at
from domain.platform.runs import RunSummary, run_workers
from domain.platform.settings import Settings
from domain.platform.sql import statement

log = structlog.get_logger(__name__)

Hook = Callable[[str, str], None]
"""Called with (point, payout_id) at `attempt_recorded`, `gateway_call` and `gateway_answered`."""

NARRATION = "Marketplace payout"


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


def run_submission(
    url: str, gateway: PayoutsGateway, options: SubmitOptions, *, hook: Hook | None = None
) -> RunSummary:
    """`submit_pending` on its own engine: two connections per worker (the claim's lock, the attempts)."""
    engine = create_engine(url, pool_size=2 * options.concurrency + 1)
    try:
        return submit_pending(engine, gateway, options, hook=hook)
    finally:
        engine.dispose()


def create_batch(conn: sa.Connection, day: dt.date, *, settled_funds_only: bool) -> dict[str, Any]:
    """Create the day's payouts (sql/payouts/batch.sql) and report the payees it would have paid but held
    back, each with its most pressing reason; `settled_funds_only` is PAYOUT_REQUIRES_SETTLED_FUNDS."""
    params = {"day": day, "settled_funds_only": settled_funds_only}
    payout_store.lock_creation(conn)
    posting.prepare(conn)
    created, amount = conn.execute(statement("payouts/batch"), params).one()
    posting.post_staged(conn)
    held = [
        {"payee_type": row.payee_type, "payee_id": row.payee_id, "available_paise": row.available_paise,
         "reason": row.reasons[0]}
        for row in payout_store.held_back(conn, day, settled_funds_only=settled_funds_only)
        if row.due
    ]  # fmt: skip
    if held:
        log.warning("payees_held_back", day=str(day), count=len(held), reasons=dict(Counter(r["reason"] for r in held)))
    return {"payouts_created": int(created), "amount_paise": int(amount), "held_back": held}


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
) -> RunSummary:
    """Submit every due pending payout once, with `options.concurrency` workers and a rate cap."""
    started_at = dt.datetime.now(dt.UTC)
    limiter = RateLimiter(options.requests_per_second)
    worker = _Worker(engine, gateway, options, limiter, hook, rng or random.Random(), started_at)
    summary = run_workers(worker.run, options.concurrency, "payout")
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
                    row = lock_conn.execute(statement("payouts/claim"), params).first()
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
