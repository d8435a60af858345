"""Payment confirmation through the day: money moves only on what the gateway's status API says.

A webhook alone never settles a payment's outcome, in either direction: the PhonePe v2 header is
static, so a verified `checkout.order.completed` or `checkout.order.failed` proves nothing about
freshness. Every payment whose outcome came from a webhook is therefore asked about by status:

| our order        | gateway says                  | then                                                       |
|------------------|-------------------------------|------------------------------------------------------------|
| paid / delivered | COMPLETED, full amount        | confirmed (`confirmed_at`): the nightly captures take it   |
| payment_failed   | COMPLETED, full amount        | the order becomes `paid` (a forged failure blocks nothing) |
| payment_failed   | FAILED                        | the failure is confirmed; final                            |
| paid / delivered | FAILED                        | final, finance alert (`payment_unconfirmed`)               |
| any              | COMPLETED, another amount     | final, finance alert                                       |
| any              | PENDING, error, 404, 429, 5xx | asked again after a jittered exponential backoff           |

A payment still without a final answer `max_age_h` after its outcome (paid_at / payment_failed_at)
is `expired`: a finance alert, and it is not asked about again.

One run (the sensor launches one every few minutes; `settle payments confirm` runs one in process)
takes the run lock, so overlapping runs never ask twice; reads up to `batch_size` due payments; asks
about them from `concurrency` threads at no more than `requests_per_second` overall (a 429's
Retry-After holds every worker off, and that payment's next check is no sooner); and records the
answers in chunks of `record_every`, one transaction each, while the calls go on. No transaction is
open around a call, and an answer lost in a crash only means the payment is asked about again: the
status API is read-only. The adapter should not retry by itself (`read_retries=0`): every request
then passes the rate limiter, and a retry is a later check, not a sleep in a worker.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog

from domain.orders import store as order_store
from domain.outbox import events, outbox
from domain.platform.gateway_errors import GatewayError, RetriableError
from domain.platform.retry import RateLimiter, next_attempt_at
from domain.platform.settings import Settings
from domain.platform.sql import statement
from domain.settlement.gateway import OrderStatus, PaymentStatusGateway

log = structlog.get_logger(__name__)

Answer = OrderStatus | GatewayError

FINAL = frozenset({"confirmed", "recovered", "failure_confirmed", "refused", "expired"})
"""Verdicts after which a payment is never asked about again."""

ALERTED = frozenset({"refused", "expired"})
"""Verdicts finance hears about (`payment_unconfirmed`, once per order)."""


@dataclass(frozen=True, slots=True)
class ConfirmOptions:
    concurrency: int = 8
    requests_per_second: float = 50.0
    max_age_h: float = 72.0
    backoff_base_s: float = 60.0
    backoff_max_s: float = 3600.0
    batch_size: int = 5000
    record_every: int = 200

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> ConfirmOptions:
        configured: dict[str, Any] = {
            "concurrency": settings.payment_confirmation_concurrency,
            "requests_per_second": settings.payment_confirmation_requests_per_second,
            "max_age_h": settings.payment_confirmation_max_age_h,
            "backoff_base_s": settings.payment_confirmation_backoff_base_s,
            "backoff_max_s": settings.payment_confirmation_backoff_max_s,
            "batch_size": settings.payment_confirmation_batch_size,
        }
        return cls(**{**configured, **overrides})

    @property
    def max_age(self) -> dt.timedelta:
        return dt.timedelta(hours=self.max_age_h)

    @property
    def lookback(self) -> dt.timedelta:
        """How far back a never-asked payment is looked for: twice its age limit, so one the sensor
        missed (an outage) is still asked once, then expired, rather than silently never seen."""
        return 2 * self.max_age


@dataclass(frozen=True, slots=True)
class DuePayment:
    order_id: str
    status: str
    amount_paise: int
    outcome_at: dt.datetime
    attempts: int
    gateway_state: str | None


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an answer means for a payment: `kind` (see FINAL, plus `retry`) and the recorded reason."""

    kind: str
    reason: str


@dataclass
class ConfirmSummary:
    """What one run did: answers by verdict, gateway calls made, or `busy` if another run held the lock."""

    verdicts: Counter[str] = field(default_factory=Counter)
    gateway_calls: int = 0
    elapsed_s: float = 0.0
    busy: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            **dict(sorted(self.verdicts.items())),
            "gateway_calls": self.gateway_calls,
            "elapsed_s": self.elapsed_s,
            "busy": self.busy,
        }


# -- rules (pure) -----------------------------------------------------------------------------------


def judge(payment: DuePayment, answer: Answer, now: dt.datetime, max_age: dt.timedelta) -> Verdict:
    """The verdict on one gateway answer about one payment (the table in the module docstring)."""
    verdict = _verdict(payment, answer)
    if verdict.kind == "retry" and now >= payment.outcome_at + max_age:
        return Verdict("expired", "expired")
    return verdict


def _verdict(payment: DuePayment, answer: Answer) -> Verdict:
    if not isinstance(answer, OrderStatus):
        return Verdict("retry", "status_unavailable")
    reason = f"gateway_state_{answer.state.lower()}"
    if answer.state == "PENDING":
        return Verdict("retry", reason)
    failed_here = payment.status == "payment_failed"
    if answer.state == "FAILED":
        return Verdict("failure_confirmed" if failed_here else "refused", reason)
    if answer.amount_paise != payment.amount_paise:
        return Verdict("refused", "amount_mismatch")
    return Verdict("recovered" if failed_here else "confirmed", "confirmed")


def next_check_at(
    payment: DuePayment, answer: Answer, now: dt.datetime, options: ConfirmOptions, rng: random.Random
) -> dt.datetime:
    """When to ask again: exponential backoff with jitter on the attempts so far, never sooner than
    the gateway's Retry-After."""
    retry_after = answer.retry_after_s if isinstance(answer, RetriableError) else None
    attempt = payment.attempts + 1
    return next_attempt_at(now, attempt, options.backoff_base_s, options.backoff_max_s, rng, retry_after)


# -- records (the caller owns the transaction) ------------------------------------------------------


def due_payments(conn: sa.Connection, now: dt.datetime, options: ConfirmOptions, limit: int) -> list[DuePayment]:
    """Up to `limit` payments to ask about at `now`, soonest due first (sql/settlement/confirmations_due.sql)."""
    params = {"now": now, "since": now - options.lookback, "limit": limit}
    rows = conn.execute(statement("settlement/confirmations_due"), params)
    return [DuePayment(**row._mapping) for row in rows]


def any_due(conn: sa.Connection, now: dt.datetime, options: ConfirmOptions) -> bool:
    """Whether a run would find work (what the sensor asks)."""
    return bool(due_payments(conn, now, options, limit=1))


def record_answers(
    conn: sa.Connection,
    answers: Sequence[tuple[DuePayment, Answer]],
    now: dt.datetime,
    options: ConfirmOptions,
    rng: random.Random,
) -> Counter[str]:
    """Record one chunk of answers: recovered orders become paid, rows are upserted, alerts written."""
    verdicts: Counter[str] = Counter()
    rows, alerts = [], []
    for payment, answer in answers:
        verdict = judge(payment, answer, now, options.max_age)
        if verdict.kind == "recovered" and not _recover(conn, payment, answer):
            verdict = Verdict("retry", "order_changed")
        verdicts[verdict.kind] += 1
        check_again = None if verdict.kind in FINAL else next_check_at(payment, answer, now, options, rng)
        rows.append(_row(payment, answer, verdict, check_again))
        if verdict.kind in ALERTED:
            alerts.append(_alert(payment, answer, verdict))
    conn.execute(statement("settlement/confirmations_record"), {"answers": json.dumps(rows)})
    outbox.write(conn, alerts)
    return verdicts


def _recover(conn: sa.Connection, payment: DuePayment, answer: Answer) -> bool:
    assert isinstance(answer, OrderStatus)
    paid_at = dt.datetime.fromtimestamp(answer.timestamp_ms / 1000, dt.UTC) if answer.timestamp_ms else None
    confirmed = order_store.ConfirmedPayment(
        order_id=payment.order_id,
        amount_paise=answer.amount_paise,
        gateway_order_id=answer.gateway_order_id,
        transaction_id=answer.transaction_id,
        payment_mode=answer.payment_mode,
        paid_at=paid_at,
    )
    recovered = order_store.recover_failed_payment(conn, confirmed)
    if recovered:
        log.warning("failed_payment_confirmed_completed", order_id=payment.order_id, amount_paise=answer.amount_paise)
    return recovered


def _row(payment: DuePayment, answer: Answer, verdict: Verdict, check_again: dt.datetime | None) -> dict[str, Any]:
    known = answer if isinstance(answer, OrderStatus) else None
    return {
        "order_id": payment.order_id,
        "confirmed": verdict.kind in ("confirmed", "recovered"),
        "reason": verdict.reason,
        "gateway_state": known.state if known else None,
        "gateway_amount_paise": known.amount_paise if known else None,
        "gateway_transaction_id": known.transaction_id if known else None,
        "next_check_at": check_again.isoformat() if check_again else None,
    }


def _alert(payment: DuePayment, answer: Answer, verdict: Verdict) -> events.OutboxRow:
    known = answer if isinstance(answer, OrderStatus) else None
    log.warning("payment_unconfirmed", order_id=payment.order_id, reason=verdict.reason)
    return events.payment_unconfirmed(
        events.PaymentUnconfirmed(
            order_id=payment.order_id,
            amount_paise=payment.amount_paise,
            reason=verdict.reason,
            gateway_state=known.state if known else payment.gateway_state,
            gateway_amount_paise=known.amount_paise if known else None,
            attempts=payment.attempts + 1,
        )
    )


# -- the workflow -----------------------------------------------------------------------------------


def confirm_due(
    engine: sa.Engine,
    gateway: PaymentStatusGateway,
    options: ConfirmOptions,
    *,
    now: dt.datetime,
    rng: random.Random | None = None,
) -> ConfirmSummary:
    """Ask the gateway about every payment due at `now` (up to `batch_size`) and record the answers."""
    started = time.monotonic()
    summary = ConfirmSummary()
    with engine.connect() as lock_conn, lock_conn.begin():
        if not lock_conn.execute(statement("settlement/confirmations_lock")).scalar_one():
            summary.busy = True
            log.info("payment_confirmation_busy")
            return summary
        with engine.begin() as conn:
            due = due_payments(conn, now, options, options.batch_size)
        if due:
            _ask_and_record(engine, gateway, due, options, now, rng or random.Random(), summary)
    summary.elapsed_s = round(time.monotonic() - started, 3)
    log.info("payments_confirmed", **summary.as_dict())
    return summary


def _ask_and_record(
    engine: sa.Engine,
    gateway: PaymentStatusGateway,
    due: list[DuePayment],
    options: ConfirmOptions,
    now: dt.datetime,
    rng: random.Random,
    summary: ConfirmSummary,
) -> None:
    """The calls run in the pool while this thread records what has come back, chunk by chunk."""
    asker = _Asker(gateway, RateLimiter(options.requests_per_second))
    with ThreadPoolExecutor(max(1, min(options.concurrency, len(due))), thread_name_prefix="confirm") as pool:
        answers = zip(due, pool.map(asker.ask, due), strict=True)
        for chunk in _chunks(answers, options.record_every):
            with engine.begin() as conn:
                summary.verdicts.update(record_answers(conn, chunk, now, options, rng))
    summary.gateway_calls = len(due)


@dataclass(frozen=True, slots=True)
class _Asker:
    gateway: PaymentStatusGateway
    limiter: RateLimiter

    def ask(self, payment: DuePayment) -> Answer:
        """One status call under the rate cap; a Retry-After holds every worker off, not just this one."""
        self.limiter.acquire()
        try:
            return self.gateway.order_status(payment.order_id)
        except RetriableError as exc:
            if exc.retry_after_s:
                self.limiter.hold_off(exc.retry_after_s)
            return exc
        except GatewayError as exc:
            return exc


def _chunks(items: Iterable[tuple[DuePayment, Answer]], size: int) -> Iterator[list[tuple[DuePayment, Answer]]]:
    chunk: list[tuple[DuePayment, Answer]] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
