"""Payments that arrive for orders that can no longer be paid: the gateway's word decides, the buyer's
money goes back in full, the platform bears the gateway fee, finance is told, and suspense clears."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from domain.orders.tables import orders
from domain.platform.ids import new_id
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound


def _now() -> dt.datetime:
    """The real time: stray reports are stamped by the database's clock."""
    return dt.datetime.now(dt.UTC)


def _cancelled_order(books: Books, amount_paise: int) -> tuple[str, str]:
    buyer, seller = books.user("buyer"), books.user("seller")
    order_id = new_id("ord")
    created = _now() - dt.timedelta(hours=3)
    with books.engine.begin() as conn:
        conn.execute(
            sa.insert(orders).values(
                order_id=order_id, buyer_id=buyer, seller_id=seller, listing_id="lst_1", amount_paise=amount_paise,
                status="cancelled", cancelled_at=created + dt.timedelta(hours=1), created_at=created,
            )
        )  # fmt: skip
    return order_id, buyer


def test_a_payment_for_a_cancelled_order_is_refunded_in_full(books: Books) -> None:
    order, buyer = _cancelled_order(books, 25_000)
    books.sandbox.pay(order, 25_000)  # the buyer paid anyway; PhonePe sends its success webhook
    books.sandbox.flush()
    assert refunds.store_webhooks(books) == 0  # verified, but an anomaly: the order is cancelled
    stored = books.one("SELECT verdict, reason FROM webhook_events WHERE event_type = 'checkout.order.completed'")
    assert tuple(stored) == ("anomaly", "paid_after_cancellation")
    assert books.one("SELECT status FROM stray_payments WHERE order_id = :o", o=order).status == "reported"
    assert books.balances() == {}  # a webhook moves no money

    assert refunds.check_strays(books, _now()) == {"refunding": 1}
    [refund] = refunds.refunds(books)
    assert (refund.kind, refund.amount_paise, refund.status, refund.reason, refund.requested_by) == (
        "stray", 25_000, "approved", "paid_after_cancellation", "system",
    )  # fmt: skip
    # The gateway owes us 25_000 less its 1.5% fee (375), which the platform bears; the 25_000 is the
    # buyer's until it is back with them.
    assert books.balances() == {"gateway_clearing": 24_625, "platform_revenue": 375, "recon_suspense": -25_000}
    alert = books.one("SELECT audience, payload FROM notifications WHERE event_type = 'stray_payment_refunded'")
    expected = {"order_id": order, "order_status": "cancelled", "amount_paise": 25_000, "refund_id": refund.refund_id}
    assert (alert.audience, alert.payload) == ("finance", expected)

    refunds.refund_now(books, _now())
    assert books.one("SELECT status FROM refunds WHERE refund_id = :r", r=refund.refund_id).status == "completed"
    assert books.balances() == {"gateway_clearing": -375, "platform_revenue": 375, "recon_suspense": 0}
    assert books.one("SELECT status FROM order_states WHERE order_id = :o", o=order).status == "cancelled"
    told = books.rows("SELECT audience, user_id FROM notifications WHERE event_type = 'refund_completed'")
    assert sorted((t.audience, t.user_id) for t in told) == [("finance", None), ("user", buyer)]  # no seller
    assert refunds.check_strays(books, _now()) == {}  # done once
    assert_books_sound(books)


def test_a_success_after_a_confirmed_failure_is_refunded_and_one_before_it_makes_the_order_paid(books: Books) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")
    confirmed_failure = books.failed_order(buyer, seller, 12_000, _now() - dt.timedelta(hours=2))
    wrong_failure = books.failed_order(buyer, seller, 13_000, _now() - dt.timedelta(hours=2), gateway="COMPLETED")
    books.confirm(_now() - dt.timedelta(hours=1))  # FAILED is final for the first; the second is found paid
    assert books.one("SELECT status FROM orders WHERE order_id = :o", o=wrong_failure).status == "paid"

    books.sandbox.pay(confirmed_failure, 12_000)  # a later attempt of the buyer succeeds at the gateway
    books.sandbox.flush()
    refunds.store_webhooks(books)
    assert books.one("SELECT status FROM stray_payments WHERE order_id = :o", o=confirmed_failure).status == "reported"
    assert refunds.check_strays(books, _now()) == {"refunding": 1}
    [refund] = refunds.refunds(books)
    assert (refund.order_id, refund.reason, refund.amount_paise) == (confirmed_failure, "paid_after_failure", 12_000)
    refunds.refund_now(books, _now())
    # 12_000 less the 180 fee in clearing, then 12_000 back to the buyer: the platform is out the fee.
    assert books.balances() == {"gateway_clearing": -180, "platform_revenue": 180, "recon_suspense": 0}
    assert_books_sound(books)


def test_a_stray_report_the_gateway_does_not_confirm_refunds_nothing(books: Books) -> None:
    order, _ = _cancelled_order(books, 9_000)
    books.sandbox.pay(order, 9_000, "FAILED")
    with books.engine.begin() as conn:  # a verified success webhook said otherwise
        conn.execute(sa.text("INSERT INTO stray_payments (order_id, webhook_event_id, reported_amount_paise) "
                             "VALUES (:o, 1, 9000)"), {"o": order})  # fmt: skip
    assert refunds.check_strays(books, _now()) == {"not_completed": 1}
    assert refunds.refunds(books) == [] and books.balances() == {}
    expired, _ = _cancelled_order(books, 7_000)
    books.sandbox.pay(expired, 7_000, "PENDING")
    with books.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO stray_payments (order_id, webhook_event_id, reported_amount_paise) "
                             "VALUES (:o, 2, 7000)"), {"o": expired})  # fmt: skip
    assert refunds.check_strays(books, _now()) == {"pending": 1}
    assert refunds.check_strays(books, _now() + dt.timedelta(hours=73)) == {"expired": 1}
    alert = books.one("SELECT payload FROM notifications WHERE event_type = 'payment_unconfirmed'")
    assert (alert.payload["order_id"], alert.payload["reason"]) == (expired, "expired")
