"""Order status changes and payment outcomes as SQL, each with its outbox rows in the caller's transaction.

The caller owns the transaction: a status change and its notifications commit together or not at
all (DESIGN.md section 9). Rows are locked (`FOR UPDATE`) before the lifecycle is consulted, so two
concurrent changes of one order serialise and the second sees the first's result.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.orders import lifecycle
from domain.orders.tables import order_events, orders
from domain.outbox import events, outbox
from domain.outbox.events import OutboxRow
from domain.platform import idempotency
from domain.platform.audit import jsonable
from domain.platform.idempotency import Claim

SHOWN_COLUMNS = (
    "order_id",
    "buyer_id",
    "seller_id",
    "listing_id",
    "title",
    "amount_paise",
    "currency",
    "status",
    "recorded_status",
    "gateway_order_id",
    "gateway_transaction_id",
    "payment_mode",
    "paid_at",
    "delivered_at",
    "cancelled_at",
    "payment_failed_at",
    "created_at",
    "updated_at",
)
shown = sa.table("order_states", *(sa.column(name) for name in SHOWN_COLUMNS))
"""Orders as shown (`sql/objects/order_states.sql`): the recorded status, or the derived one."""


def shown_order(conn: sa.Connection, order_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(shown).where(shown.c.order_id == order_id)).first()
    return dict(row._mapping) if row else None


def lock_order(conn: sa.Connection, order_id: str) -> dict[str, Any] | None:
    row = conn.execute(sa.select(orders).where(orders.c.order_id == order_id).with_for_update()).first()
    return dict(row._mapping) if row else None


def change_status(
    conn: sa.Connection,
    order: Mapping[str, Any],
    target: str,
    extra: Mapping[str, object] | None = None,
    also_notify: Iterable[OutboxRow] = (),
    *,
    confirmed_by_gateway: bool = False,
) -> dict[str, Any]:
    """Move a locked order to `target` (checked against the lifecycle) and write its outbox rows."""
    current = str(order["status"])
    lifecycle.next_status(current, target, confirmed_by_gateway=confirmed_by_gateway)
    values: dict[str, object] = {"status": target, "updated_at": sa.func.now(), **(extra or {})}
    stamp = lifecycle.STATUS_TIMESTAMPS.get(target)
    if stamp and stamp not in values:
        values[stamp] = sa.func.now()
    updated = conn.execute(
        sa.update(orders)
        .where(orders.c.order_id == order["order_id"], orders.c.status == current)
        .values(values)
        .returning(*orders.c)
    ).one()
    order_id, buyer_id = str(order["order_id"]), str(order["buyer_id"])
    outbox.write(conn, [events.order_status_changed(order_id, buyer_id, current, target), *also_notify])
    return dict(updated._mapping)


def post_event(
    conn: sa.Connection, order_id: str, event: str, claim: Claim | None = None
) -> tuple[dict[str, Any], bool]:
    """Apply a client's fulfilment event and record it in `order_events`; (the order as shown after it,
    whether that is the first answer replayed). An event that already took effect changes nothing. The
    order's lock serialises concurrent requests for it, so a retry finds the first one's answer."""
    order = lock_order(conn, order_id)
    if order is None:
        raise lifecycle.OrderNotFound(order_id)
    earlier = idempotency.first_answer(conn, order_events, claim)
    if earlier is not None:
        return earlier, True
    current = shown_order(conn, order_id)
    assert current is not None
    target = lifecycle.status_for_event(str(current["status"]), event)
    if target is not None:
        change_status(conn, order, target)
    after = shown_order(conn, order_id)
    assert after is not None
    answer = jsonable(after)
    values = {"order_id": order_id, "event": event, "previous_status": current["status"], "status": after["status"]}
    if not idempotency.insert_claimed(conn, order_events, values, claim, answer):
        return idempotency.answer_after_race(conn, order_events, claim), True
    return answer, False


@dataclass(frozen=True, slots=True)
class PaymentOutcome:
    """A verified gateway report that an order's payment succeeded or failed."""

    webhook_event_id: int
    order_id: str
    succeeded: bool
    amount_paise: int
    gateway_order_id: str | None = None
    transaction_id: str | None = None
    payment_mode: str | None = None
    occurred_at: dt.datetime | None = None


def apply_payment(conn: sa.Connection, outcome: PaymentOutcome) -> tuple[str, str]:
    """Apply a payment outcome to its order; return the webhook verdict and reason.

    Anything that cannot be applied as it stands (unknown order, amount differing from the order's,
    an order no longer awaiting payment) is an `anomaly`: the order is left alone and finance gets
    an outbox row. The batch side confirms the state with the gateway before money moves.
    """
    order = lock_order(conn, outcome.order_id)
    reason = _anomaly(order, outcome)
    if order is None or reason is not None:
        reason = reason or "unknown_order"
        outbox.write(conn, [events.payment_anomaly(outcome.webhook_event_id, outcome.order_id, reason)])
        return "anomaly", reason
    stamp = outcome.occurred_at or sa.func.now()
    extra: dict[str, object] = {
        "gateway_order_id": outcome.gateway_order_id,
        "gateway_transaction_id": outcome.transaction_id,
        "payment_mode": outcome.payment_mode,
        ("paid_at" if outcome.succeeded else "payment_failed_at"): stamp,
    }
    payment_row = events.payment_outcome(
        outcome.order_id, str(order["buyer_id"]), outcome.succeeded, int(order["amount_paise"])
    )
    change_status(conn, order, "paid" if outcome.succeeded else "payment_failed", extra, [payment_row])
    return "accepted", "applied"


def _anomaly(order: Mapping[str, Any] | None, outcome: PaymentOutcome) -> str | None:
    if order is None:
        return "unknown_order"
    if outcome.succeeded and order["status"] in STRAY_REASONS:
        return STRAY_REASONS[str(order["status"])]
    if outcome.amount_paise != order["amount_paise"]:
        return "amount_mismatch"
    if not lifecycle.can_transition(str(order["status"]), "paid" if outcome.succeeded else "payment_failed"):
        return "illegal_transition"
    return None


STRAY_REASONS = {"cancelled": "paid_after_cancellation", "payment_failed": "paid_after_failure"}
"""A success reported for an order that can no longer be paid: if the gateway confirms it, the money
is the buyer's and goes back (`domain.refunds.stray`)."""


@dataclass(frozen=True, slots=True)
class ConfirmedPayment:
    """What the gateway's status API reported about a payment it calls COMPLETED."""

    order_id: str
    amount_paise: int
    gateway_order_id: str | None = None
    transaction_id: str | None = None
    payment_mode: str | None = None
    paid_at: dt.datetime | None = None


def recover_failed_payment(conn: sa.Connection, payment: ConfirmedPayment) -> bool:
    """Make a `payment_failed` order `paid`: the gateway says its payment COMPLETED for the full amount.

    The failure came from a webhook, which proves nothing about freshness or origin; the status API
    is the truth, so a forged `checkout.order.failed` cannot block a real payment. `paid_at` is the
    gateway's time of payment when it gave one, else now. False (nothing changed) if the order is
    gone, no longer `payment_failed`, or of another amount.
    """
    order = lock_order(conn, payment.order_id)
    if order is None or order["status"] != "payment_failed" or order["amount_paise"] != payment.amount_paise:
        return False
    reported = {
        "gateway_order_id": payment.gateway_order_id,
        "gateway_transaction_id": payment.transaction_id,
        "payment_mode": payment.payment_mode,
    }
    extra: dict[str, object] = {name: value for name, value in reported.items() if value is not None}
    extra["paid_at"] = payment.paid_at or sa.func.now()
    succeeded = events.payment_outcome(payment.order_id, str(order["buyer_id"]), True, payment.amount_paise)
    change_status(conn, order, "paid", extra, [succeeded], confirmed_by_gateway=True)
    return True
