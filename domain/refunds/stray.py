"""Stray payments: money the gateway took for an order that can no longer be paid, returned in full.

The API reports one when a verified success webhook arrives for a `cancelled` order, or for a
`payment_failed` one (`domain.orders.store.STRAY_REASONS`). Nothing moves on that claim. The refunds
job asks the gateway's status API; only a COMPLETED payment is money we hold, and then, in one
transaction: the `stray payment received` entry (the gateway owes us the amount less its fee, which
the platform bears; the amount itself is the buyer's, in `recon_suspense`), a full refund approved
by the system, and a finance alert. The refund then goes through submission like any other, and its
completion clears the suspense.

A `payment_failed` order is refunded only once the gateway has confirmed its failure (the payment
confirmation's final FAILED): until then a COMPLETED answer means the failure report was wrong, and
the confirmation makes the order `paid` instead (DESIGN.md §5).
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.dialects.postgresql import insert as pg_insert

from domain import money
from domain.fees import schedule
from domain.ledger import entries, posting
from domain.orders import store as order_store
from domain.outbox import events, outbox
from domain.platform.clock import ist_date
from domain.platform.gateway_errors import GatewayError
from domain.platform.ids import new_id
from domain.platform.retry import next_attempt_at
from domain.refunds.submission import RefundOptions
from domain.refunds.tables import refunds, stray_payments
from domain.settlement.gateway import PaymentStatusGateway
from domain.settlement.tables import payment_confirmations

log = structlog.get_logger(__name__)


def report(conn: sa.Connection, order_id: str, webhook_event_id: int, amount_paise: int) -> None:
    """Note a reported success for an order that can no longer be paid; the first report counts."""
    conn.execute(
        pg_insert(stray_payments)
        .values(order_id=order_id, webhook_event_id=webhook_event_id, reported_amount_paise=amount_paise)
        .on_conflict_do_nothing(index_elements=["order_id"])
    )


def refund_stray_payments(
    engine: sa.Engine,
    gateway: PaymentStatusGateway,
    options: RefundOptions,
    *,
    now: dt.datetime,
    max_age: dt.timedelta,
    rng: random.Random | None = None,
) -> Counter[str]:
    """Check every reported stray payment that is due; counts by outcome."""
    rng = rng or random.Random()
    s = stray_payments.c
    with engine.connect() as conn:
        due = (
            conn.execute(
                sa.select(s.order_id).where(s.status == "reported", s.next_check_at <= now).order_by(s.next_check_at)
            )
            .scalars()
            .all()
        )
    outcomes: Counter[str] = Counter()
    for order_id in due:
        with engine.begin() as conn:
            outcomes[_check(conn, gateway, order_id, options, now, max_age, rng)] += 1
    return outcomes


def _check(
    conn: sa.Connection,
    gateway: PaymentStatusGateway,
    order_id: str,
    options: RefundOptions,
    now: dt.datetime,
    max_age: dt.timedelta,
    rng: random.Random,
) -> str:
    s = stray_payments.c
    stray = conn.execute(
        sa.select(stray_payments)
        .where(s.order_id == order_id, s.status == "reported")
        .with_for_update(skip_locked=True)
    ).first()
    if stray is None:
        return "skipped"
    order = order_store.lock_order(conn, order_id)
    assert order is not None
    if order["status"] not in order_store.STRAY_REASONS:
        return _resolve(conn, stray, "paid_order", now)
    if now >= stray.reported_at + max_age:
        _unconfirmed(conn, stray, order)
        return _resolve(conn, stray, "expired", now)
    if order["status"] == "payment_failed" and not _failure_confirmed(conn, order_id):
        return _later(conn, stray, options, now, rng, "waiting_for_confirmation")
    try:
        answer = gateway.order_status(order_id)
    except GatewayError as exc:
        log.warning("stray_payment_status_failed", order_id=order_id, error=str(exc))
        return _later(conn, stray, options, now, rng, "unavailable")
    if answer.state == "FAILED":
        return _resolve(conn, stray, "not_completed", now)
    if answer.state != "COMPLETED":
        return _later(conn, stray, options, now, rng, "pending")
    _refund(conn, stray, order, answer.amount_paise, now)
    return "refunding"


def _failure_confirmed(conn: sa.Connection, order_id: str) -> bool:
    c = payment_confirmations.c
    row = conn.execute(sa.select(c.gateway_state, c.next_check_at, c.confirmed).where(c.order_id == order_id)).first()
    return row is not None and row.gateway_state == "FAILED" and row.next_check_at is None and not row.confirmed


def _refund(conn: sa.Connection, stray: Any, order: dict[str, Any], amount_paise: int, now: dt.datetime) -> None:
    fees = schedule.in_effect(conn, ist_date(now))
    gateway_fee = money.bps_of(amount_paise, fees.gateway_fee_bps)
    posted = posting.post_entry(conn, entries.stray_payment_entry(stray.order_id, amount_paise, gateway_fee))
    refund_id = new_id("rfd")
    reason = order_store.STRAY_REASONS[str(order["status"])]
    conn.execute(
        sa.insert(refunds).values(
            refund_id=refund_id,
            order_id=stray.order_id,
            kind="stray",
            buyer_id=order["buyer_id"],
            seller_id=order["seller_id"],
            amount_paise=amount_paise,
            reason=reason,
            status="approved",
            requested_by="system",
            decided_by="system",
            decided_at=now,
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
    )
    conn.execute(
        sa.update(stray_payments)
        .where(stray_payments.c.order_id == stray.order_id)
        .values(
            status="refunding",
            refund_id=refund_id,
            entry_id=posted.entry_id,
            gateway_amount_paise=amount_paise,
            gateway_fee_paise=gateway_fee,
            checks=stray_payments.c.checks + 1,
            resolved_at=now,
        )
    )
    change = events.RefundChange(
        refund_id=refund_id,
        order_id=stray.order_id,
        amount_paise=amount_paise,
        status="approved",
        reason=reason,
        failure_reason=None,
    )
    alert = events.StrayPayment(
        order_id=stray.order_id, order_status=str(order["status"]), amount_paise=amount_paise, refund_id=refund_id
    )
    outbox.write(
        conn,
        [*events.refund_changed(change, str(order["buyer_id"]), requested=True), events.stray_payment_refunded(alert)],
    )
    log.info("stray_payment_refunding", order_id=stray.order_id, amount_paise=amount_paise, refund_id=refund_id)


def _resolve(conn: sa.Connection, stray: Any, status: str, now: dt.datetime) -> str:
    conn.execute(
        sa.update(stray_payments)
        .where(stray_payments.c.order_id == stray.order_id)
        .values(status=status, resolved_at=now, next_check_at=None, checks=stray_payments.c.checks + 1)
    )
    return status


def _later(
    conn: sa.Connection, stray: Any, options: RefundOptions, now: dt.datetime, rng: random.Random, why: str
) -> str:
    when = next_attempt_at(now, int(stray.checks) + 1, options.poll_base_s, options.backoff_max_s, rng)
    conn.execute(
        sa.update(stray_payments)
        .where(stray_payments.c.order_id == stray.order_id)
        .values(next_check_at=when, checks=stray_payments.c.checks + 1)
    )
    return why


def _unconfirmed(conn: sa.Connection, stray: Any, order: dict[str, Any]) -> None:
    """No final answer in time: finance looks at it by hand."""
    outbox.write(
        conn,
        [
            events.payment_unconfirmed(
                events.PaymentUnconfirmed(
                    order_id=stray.order_id,
                    amount_paise=int(stray.reported_amount_paise),
                    reason="expired",
                    gateway_state=None,
                    gateway_amount_paise=None,
                    attempts=int(stray.checks),
                )
            )
        ],
    )
