"""Refund worked examples to the paisa: requests through the domain, submission and status against the
sandbox over HTTP, the nightly job for settlement and payouts, every account checked.

Defaults: platform fee 10%, gateway fee 1.5%, minimum payout Rs 100, hold 2 days, approval above Rs 5,000.
"""

from __future__ import annotations

import datetime as dt

import pytest

from domain.refunds import store
from domain.refunds.rules import RefundRuleError
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import payee, payouts, settle_status

D = dt.date(2026, 11, 10)


def _order_status(books: Books, order_id: str) -> str:
    return str(books.one("SELECT status FROM order_states WHERE order_id = :o", o=order_id).status)


def test_full_refund_before_settlement(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    order = books.paid_order(buyer, seller, 100_000, ist(D, 9), delivered_at=ist(D, 10))
    refund = refunds.request(books, order, 100_000, ist(D, 12))
    assert (refund.status, list(refund.approval_reasons)) == ("approved", [])  # small, unsettled: no approval

    assert refunds.refund_now(books, ist(D, 12))["submitted"] == 1
    [done] = refunds.refunds(books)
    assert (done.status, done.gateway_state) == ("completed", "COMPLETED")
    # Not captured yet: the fees are those the capture will compute. Fee reversed 10% of 100_000 =
    # 10_000; the seller gives back 100_000 - 10_000 = 90_000; the gateway keeps its 1_500.
    row = books.one("SELECT * FROM order_refunds WHERE refund_id = :r", r=done.refund_id)
    assert (row.refund_paise, row.platform_fee_reversed_paise, row.seller_debit_paise) == (100_000, 10_000, 90_000)
    assert books.balances() == {
        "gateway_clearing": -100_000,
        f"seller_payable:{seller}": 90_000,
        "platform_revenue": 10_000,
    }
    assert _order_status(books, order) == "refunded"

    assert books.settle(D).success
    # The night captures the order (clearing +98_500, seller -88_500, revenue -10_000) and settles it;
    # the seller's items are +88_500 and -90_000: a balance of -1_500 (the gateway fee) is not paid.
    assert payouts(books) == []
    assert books.balances() == {
        "gateway_clearing": 98_500 - 100_000,
        f"seller_payable:{seller}": 90_000 - 88_500,
        "platform_revenue": 10_000 - 10_000,
    }
    assert _order_status(books, order) == "refunded"  # refunded outranks settled
    [witnessed] = refunds.witness(books)[done.refund_id]
    assert (witnessed["amount"], witnessed["state"]) == (100_000, "COMPLETED")
    notices = books.rows("SELECT event_type, audience, user_id FROM notifications WHERE dedupe_key LIKE :k "
                         "ORDER BY dedupe_key", k=f"refund:{done.refund_id}:%")  # fmt: skip
    assert [tuple(n) for n in notices] == [
        ("refund_completed", "user", buyer),
        ("refund_completed", "finance", None),
        ("refund_completed", "user", seller),
        ("refund_requested", "user", buyer),
    ]
    revenue = books.one("SELECT * FROM analytics.daily_revenue WHERE day = :d", d=D)
    assert (revenue.refunds_paise, revenue.refunded_platform_fee_paise, revenue.net_revenue_paise) == (
        100_000, 10_000, 10_000 - 10_000,
    )  # fmt: skip
    by_reason = books.one("SELECT * FROM analytics.refunds_daily WHERE day = :d", d=D)
    assert (by_reason.kind, by_reason.reason, by_reason.refunds_completed, by_reason.refund_paise,
            by_reason.refunded_platform_fee_paise, by_reason.clawback_paise) == (
        "order", "customer_request", 1, 100_000, 10_000, 90_000,
    )  # fmt: skip
    assert_books_sound(books)


def test_three_partial_refunds_reverse_exactly_the_fee(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    # Gross 99_999: platform fee round(9_999.9) = 10_000, gateway fee round(1_499.985) = 1_500, net 88_499.
    order = books.paid_order(buyer, seller, 99_999, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success
    settle_status(books)
    assert payouts(books)[0].status == "completed"  # the seller was paid 88_499

    later = D + dt.timedelta(days=1)
    for hour in (9, 10, 11):
        refund = refunds.request(books, order, 33_333, ist(later, hour))
        assert refund.approval_reasons == ["order_settled", "order_paid_out"] + (
            ["seller_in_clawback"] if hour > 9 else []
        )
        refunds.approve(books, refund.refund_id, ist(later, hour))
        assert refunds.refund_now(books, ist(later, hour))["submitted"] == 1
        assert _order_status(books, order) == ("refunded" if hour == 11 else "partially_refunded")

    rows = books.rows("SELECT refund_paise, platform_fee_reversed_paise, seller_debit_paise FROM order_refunds "
                      "ORDER BY created_at")  # fmt: skip
    # Cumulative reversal: round(10_000 x 33_333 / 99_999) = 3_333, then round(... x 66_666 / ...) = 6_667
    # (3_334 more), then 10_000 (3_333 more): 10_000 in all, exactly the fee.
    assert [tuple(r) for r in rows] == [(33_333, 3_333, 30_000), (33_333, 3_334, 29_999), (33_333, 3_333, 30_000)]
    assert books.balances() == {
        "gateway_clearing": 98_499 - 99_999,
        f"seller_payable:{seller}": 89_999,  # paid 88_499, gave back 89_999: owes the gateway fee 1_500
        "platform_revenue": -10_000 + 10_000,
        "payouts_in_transit": 0,
        "bank": -88_499,
    }
    with pytest.raises(RefundRuleError) as refused:
        refunds.request(books, order, 100, ist(later, 12))
    assert refused.value.code == "refund_exceeds_refundable"
    assert_books_sound(books)


def test_refund_after_payout_is_netted_from_the_next_sale(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    order = books.paid_order(buyer, seller, 200_000, ist(D, 9), delivered_at=ist(D, 10))  # net 177_000
    assert books.settle(D).success
    settle_status(books)
    assert payouts(books)[0].status == "completed"

    next_day = D + dt.timedelta(days=1)
    refund = refunds.request(books, order, 200_000, ist(next_day, 8))
    assert (refund.status, list(refund.approval_reasons)) == ("requested", ["order_settled", "order_paid_out"])
    assert refunds.refund_now(books, ist(next_day, 8)) == {"stuck_alerted": 0}  # waits for finance
    refunds.approve(books, refund.refund_id, ist(next_day, 8))
    refunds.refund_now(books, ist(next_day, 8))
    # A full refund after the seller was paid: the seller gives back 200_000 - 20_000 = 180_000.
    assert books.balances()[f"seller_payable:{seller}"] == 180_000  # negative for the seller: a clawback

    books.paid_order(buyer, seller, 150_000, ist(next_day, 9), delivered_at=ist(next_day, 10))  # net 132_750
    assert books.settle(next_day).success
    assert len(payouts(books)) == 1  # 132_750 - 180_000 < 0: carried, not paid
    statement = books.one("SELECT payload FROM notifications WHERE dedupe_key = :k",
                          k=f"settlement_statement:{next_day}:{seller}").payload  # fmt: skip
    assert (statement["net_paise"], statement["refunds"], statement["clawback_paise"], statement["payout_id"],
            statement["balance_paise"]) == (132_750, 1, 180_000, None, 132_750 - 180_000)  # fmt: skip

    day3 = D + dt.timedelta(days=2)
    books.paid_order(buyer, seller, 100_000, ist(day3, 9), delivered_at=ist(day3, 10))  # net 88_500
    assert books.settle(day3).success
    second = payouts(books)[1]
    assert second.amount_paise == 132_750 + 88_500 - 180_000 == 41_250
    items = books.rows("SELECT i.item_type, i.refund_id, pi.amount_paise FROM payout_items pi "
                       "JOIN payee_items i USING (payee_item_id) WHERE pi.payout_id = :p ORDER BY i.payee_item_id",
                       p=second.payout_id)  # fmt: skip
    assert [(i.item_type, i.amount_paise) for i in items] == [
        ("clawback", -180_000),
        ("settlement", 132_750),
        ("settlement", 88_500),
    ]
    assert items[0].refund_id == refund.refund_id
    settle_status(books)
    assert books.balances()[f"seller_payable:{seller}"] == 0
    assert books.balances()["bank"] == -(177_000 + 41_250)
    # Gateway clearing: 197_000 + 147_750 + 98_500 captured less the 200_000 refunded.
    assert books.balances()["gateway_clearing"] == 197_000 + 147_750 + 98_500 - 200_000
    assert_books_sound(books)


def test_refund_that_fails_at_the_gateway_is_retried_as_a_new_refund(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    order = books.paid_order(buyer, seller, 50_000, ist(D, 9), delivered_at=ist(D, 10))
    refund = refunds.request(books, order, 20_000, ist(D, 12))
    books.sandbox.configure(refund_outcomes={refund.refund_id: "FAILED"})
    refunds.refund_now(books, ist(D, 12))
    [failed] = refunds.refunds(books)
    assert (failed.status, failed.gateway_state, failed.failure_reason) == (
        "failed", "FAILED", "the gateway failed the refund",
    )  # fmt: skip
    assert books.balances() == {}  # nothing moved
    finance = books.one("SELECT count(*) AS n FROM notifications WHERE dedupe_key = :k",
                        k=f"refund:{failed.refund_id}:failed:finance").n  # fmt: skip
    assert finance == 1
    with books.engine.connect() as conn:
        assert store.order_facts(conn, order).refundable_paise == 50_000  # the failed amount is back

    with books.engine.begin() as conn:
        retried = store.retry(conn, failed.refund_id, actor="finance", now=ist(D, 13))
    with books.engine.begin() as conn, pytest.raises(RefundRuleError) as twice:
        store.retry(conn, failed.refund_id, actor="finance", now=ist(D, 13))
    assert twice.value.code == "refund_already_retried"
    refunds.refund_now(books, ist(D, 13))
    done = books.one("SELECT * FROM refunds WHERE refund_id = :r", r=retried.refund_id)
    assert (done.status, done.retry_of_refund_id, done.amount_paise) == ("completed", failed.refund_id, 20_000)
    assert [r["state"] for r in refunds.witness(books)[failed.refund_id]] == ["FAILED"]  # asked once, never again
    # 20_000 of 50_000: fee reversed round(5_000 x 20_000 / 50_000) = 2_000, the seller gives back 18_000.
    assert books.balances() == {
        "gateway_clearing": -20_000,
        f"seller_payable:{seller}": 18_000,
        "platform_revenue": 2_000,
    }
    assert _order_status(books, order) == "partially_refunded"
    assert_books_sound(books)


def test_refunds_the_policy_refuses_change_nothing(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    order = books.paid_order(buyer, seller, 50_000, ist(D, 9))
    unpaid = books.failed_order(buyer, seller, 10_000, ist(D, 9))
    cases = [
        (order, 50_001, ist(D, 12), {}, "refund_exceeds_refundable"),
        (order, 0, ist(D, 12), {}, "refund_amount_not_positive"),
        (order, -5, ist(D, 12), {}, "refund_amount_not_positive"),
        (order, 99, ist(D, 12), {}, "refund_below_minimum"),
        (order, 1_000, ist(D + dt.timedelta(days=31), 9, 1), {}, "refund_window_closed"),
        (unpaid, 1_000, ist(D, 12), {}, "refund_order_not_paid"),
    ]
    before = books.snapshot()
    for order_id, amount, now, policy, code in cases:
        with pytest.raises(RefundRuleError) as refused:
            refunds.request(books, order_id, amount, now, **policy)
        assert refused.value.code == code, (amount, code)
    assert books.snapshot() == before

    for _ in range(2):
        refunds.request(books, order, 1_000, ist(D, 12), refund_max_per_order=2)
    with pytest.raises(RefundRuleError) as limited:
        refunds.request(books, order, 1_000, ist(D, 12), refund_max_per_order=2)
    assert limited.value.code == "refund_limit_reached"
    big = refunds.request(books, order, 40_000, ist(D, 12), refund_approval_threshold_paise=30_000)
    assert (big.status, list(big.approval_reasons)) == ("requested", ["above_threshold"])
    with pytest.raises(RefundRuleError) as over:
        refunds.request(books, order, 8_001, ist(D, 12))  # 50_000 - 2 x 1_000 - 40_000 in flight
    assert over.value.code == "refund_exceeds_refundable"
    with books.engine.begin() as conn:
        store.decide(conn, big.refund_id, approve=False, actor="finance", note="not eligible", now=ist(D, 13))
    assert refunds.request(books, order, 48_000, ist(D, 13)).status == "approved"  # the rejection released it
    assert_books_sound(books)
