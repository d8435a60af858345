"""Worked accounting examples: a marketplace day, the nightly job, and every account to the paisa.

Defaults throughout: platform fee 10% (1000 bps), gateway fee 1.5% (150 bps), bounty Rs 10,
hold period 2 days after payment (delivery makes an order eligible at once).
"""

from __future__ import annotations

import datetime as dt

from tests.scenarios.books import Books, assert_books_sound, ist

D = dt.date(2026, 11, 10)


def test_order_paid_then_settled_after_the_hold(books: Books) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")
    order = books.paid_order(buyer, seller, 100_000, ist(D - dt.timedelta(days=2)))  # Rs 1,000.00

    assert books.settle(D - dt.timedelta(days=2)).success
    # Captured the day it was paid: the gateway owes us gross less its fee; the seller is owed
    # gross less both fees; the platform has earned its fee.
    assert books.balances() == {
        "gateway_clearing": 98_500,
        f"seller_payable:{seller}": -88_500,
        "platform_revenue": -10_000,
    }
    assert books.one("SELECT status FROM order_states WHERE order_id = :o", o=order).status == "paid"

    assert books.settle(D - dt.timedelta(days=1)).success  # still inside the hold period
    assert books.rows("SELECT * FROM settlement_lines") == []

    assert books.settle(D).success  # paid at 10:00 two days ago: eligible at 10:00 today
    line = books.one("SELECT * FROM settlement_lines WHERE order_id = :o", o=order)
    assert (line.settlement_date, line.gross_paise, line.platform_fee_paise, line.gateway_fee_paise) == (
        D,
        100_000,
        10_000,
        1_500,
    )
    assert line.seller_net_paise == 88_500
    # The status is derived from the settlement row, never written to the order.
    shown = books.one("SELECT status, recorded_status FROM order_states WHERE order_id = :o", o=order)
    assert (shown.status, shown.recorded_status) == ("settled", "paid")
    assert books.balances()[f"seller_payable:{seller}"] == -88_500  # settlement moves no money twice
    # One statement for the seller's day, not one notification per order; no destination, so no payout.
    statement = books.one("SELECT user_id, event_type, payload FROM notifications WHERE dedupe_key = :k",
                          k=f"settlement_statement:{D}:{seller}")  # fmt: skip
    assert (statement.user_id, statement.event_type) == (seller, "settlement_statement")
    assert statement.payload == {
        "settlement_date": D.isoformat(),
        "statement_id": f"{D}:{seller}",
        "orders": 1,
        "gross_paise": 100_000,
        "platform_fee_paise": 10_000,
        "gateway_fee_paise": 1_500,
        "net_paise": 88_500,
        "refunds": 0,
        "refund_paise": 0,
        "clawback_paise": 0,
        "payout_id": None,
        "payout_paise": 0,
        "balance_paise": 88_500,  # owed, not paid: no payout destination
    }
    revenue = books.one("SELECT * FROM analytics.daily_revenue WHERE day = :d", d=D - dt.timedelta(days=2))
    assert (revenue.orders_paid, revenue.gmv_paise, revenue.platform_fee_paise, revenue.gateway_fee_paise) == (
        1,
        100_000,
        10_000,
        1_500,
    )
    assert revenue.net_revenue_paise == 10_000
    earnings = books.one("SELECT * FROM analytics.seller_earnings_daily WHERE day = :d", d=D)
    assert (earnings.seller_id, earnings.orders_settled, earnings.seller_net_paise) == (seller, 1, 88_500)
    assert_books_sound(books)


def test_two_sellers_on_the_half_paisa_edges(books: Books) -> None:
    buyer, first, second = books.user("buyer"), books.user("seller"), books.user("seller")
    # Rs 10.05: platform 100.5 -> 101, gateway 15.075 -> 15, seller 889.
    books.paid_order(buyer, first, 1_005, ist(D, 9), delivered_at=ist(D, 15))
    # Rs 11.00: platform 110, gateway 16.5 -> 17, seller 973.
    books.paid_order(buyer, second, 1_100, ist(D, 11), delivered_at=ist(D, 16))

    assert books.settle(D).success
    assert books.balances() == {
        "gateway_clearing": (1_005 - 15) + (1_100 - 17),
        f"seller_payable:{first}": -889,
        f"seller_payable:{second}": -973,
        "platform_revenue": -(101 + 110),
    }
    lines = books.rows(
        "SELECT seller_id, gross_paise, platform_fee_paise, gateway_fee_paise, seller_net_paise "
        "FROM settlement_lines ORDER BY gross_paise"
    )
    assert [tuple(row) for row in lines] == [(first, 1_005, 101, 15, 889), (second, 1_100, 110, 17, 973)]


def test_first_order_of_a_recruit_earns_the_bounty_once(books: Books) -> None:
    scout = books.user("scout")
    recruit = books.user("buyer", recruiter=scout)
    recruited_seller = books.user("seller", recruiter=scout)
    seller = books.user("seller")
    first = books.paid_order(recruit, seller, 50_000, ist(D, 9), delivered_at=ist(D, 12))
    books.paid_order(recruit, recruited_seller, 20_000, ist(D, 10), delivered_at=ist(D, 13))
    books.paid_order(recruit, seller, 30_000, ist(D + dt.timedelta(days=1), 9), delivered_at=ist(D, 23, 59))

    assert books.settle(D).success
    assert books.settle(D + dt.timedelta(days=1)).success
    assert books.settle(D + dt.timedelta(days=1)).success
    bounties = books.rows("SELECT recruit_id, scout_id, order_id, amount_paise FROM bounties ORDER BY amount_paise")
    # One for the recruit as buyer (their first order), one for the recruited seller; none for the
    # recruit's later order, however often the job runs.
    assert sorted(tuple(b) for b in bounties) == sorted(
        [(recruit, scout, first, 1_000), (recruited_seller, scout, bounties[1].order_id, 1_000)]
    )
    balances = books.balances()
    assert (balances[f"scout_payable:{scout}"], balances["bounty_expense"]) == (-2_000, 2_000)
    assert books.one("SELECT count(*) AS n FROM notifications WHERE event_type = 'scout_bounty_earned'").n == 2
    leader = books.one("SELECT * FROM analytics.scout_leaderboard WHERE scout_id = :s", s=scout)
    assert (leader.recruits, leader.bounties_earned, leader.bounty_paise, leader.rank) == (2, 2, 2_000, 1)


def test_no_bounty_for_an_inactive_scout(books: Books) -> None:
    scout = books.user("scout", status="suspended")
    recruit = books.user("buyer", recruiter=scout)
    books.paid_order(recruit, books.user("seller"), 10_000, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success
    assert books.rows("SELECT * FROM bounties") == []
    assert "bounty_expense" not in books.balances()


def test_payment_the_gateway_does_not_confirm_is_held_back(books: Books) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")
    unknown = books.paid_order(buyer, seller, 40_000, ist(D, 9), delivered_at=ist(D, 10), gateway=None)
    failed = books.paid_order(buyer, seller, 41_000, ist(D, 9), delivered_at=ist(D, 10), gateway="FAILED")
    short = books.paid_order(buyer, seller, 42_000, ist(D, 9), delivered_at=ist(D, 10), gateway_amount_paise=4_200)
    good = books.paid_order(buyer, seller, 10_000, ist(D, 9), delivered_at=ist(D, 10))

    assert books.settle(D).success
    reasons = dict(books.rows("SELECT order_id, reason FROM payment_confirmations"))
    assert reasons == {
        unknown: "status_unavailable",
        failed: "gateway_state_failed",
        short: "amount_mismatch",
        good: "confirmed",
    }
    assert books.balances() == {
        "gateway_clearing": 9_850,
        f"seller_payable:{seller}": -8_850,
        "platform_revenue": -1_000,
    }
    assert [r.order_id for r in books.rows("SELECT order_id FROM settlement_lines")] == [good]
    captures = next(m for m in books.runs[-1].get_asset_materialization_events() if m.asset_key.path == ["captures"])
    metadata = captures.materialization.metadata
    assert (metadata["captured"].value, metadata["held_back"].value) == (1, 3)

    books.sandbox.pay(unknown, 40_000, "COMPLETED")  # the gateway catches up; the next run captures it
    assert books.settle(D + dt.timedelta(days=1)).success
    assert books.balances()[f"seller_payable:{seller}"] == -8_850 - 35_400
    assert books.one("SELECT settlement_date FROM settlement_lines WHERE order_id = :o", o=unknown)[0] == (
        D + dt.timedelta(days=1)
    )


def test_a_day_twice_and_a_week_backfilled_twice_change_nothing(books: Books) -> None:
    scout = books.user("scout")
    sellers = [books.user("seller", recruiter=scout), books.user("seller")]
    buyers = [books.user("buyer", recruiter=scout), books.user("buyer")]
    week = [D + dt.timedelta(days=n) for n in range(7)]
    for n, day in enumerate(week):
        for k in range(3):
            delivered = ist(day, 20) if k != 2 else None  # one order a day waits out the hold period
            books.paid_order(buyers[k % 2], sellers[(n + k) % 2], 10_000 + 333 * n + k, ist(day, 9 + k),
                             delivered_at=delivered)  # fmt: skip

    assert books.settle(week[0]).success
    once = books.snapshot()
    assert books.settle(week[0]).success
    assert books.snapshot() == once

    for day in week:
        assert books.settle(day).success
    after_backfill = books.snapshot()
    balances = books.balances()
    for day in week:
        assert books.settle(day).success
    assert books.snapshot() == after_backfill
    assert books.balances() == balances
    # One capture entry per seller and day (both sellers sell every day), not one per order.
    assert len(books.rows("SELECT * FROM journal_entries WHERE entry_type = 'payment_captured'")) == 7 * 2
    assert len(books.rows("SELECT * FROM captures")) == 21
    assert len(books.rows("SELECT * FROM bounties")) == 2
    # 7 days x 2 delivered orders settle the day they were paid; the undelivered ones after two days.
    assert len(books.rows("SELECT * FROM settlement_lines")) == 14 + 5
    assert sum(balances.values()) == 0
