"""Payout worked examples to the paisa: the nightly job settles and pays, the sandbox is the gateway.

Defaults: platform fee 10%, gateway fee 1.5%, bounty Rs 10, minimum payout Rs 100, hold 2 days.
"""

from __future__ import annotations

import datetime as dt
import time

import pytest

from domain.payouts import store as payout_store
from domain.payouts.rules import PayoutRuleError
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import payee, payouts, settle_status, submit, witness

D = dt.date(2026, 11, 10)


def test_seller_is_paid_after_the_hold(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    order = books.paid_order(buyer, seller, 100_000, ist(D - dt.timedelta(days=2)))  # Rs 1,000.00

    assert books.settle(D - dt.timedelta(days=2)).success
    assert books.settle(D - dt.timedelta(days=1)).success
    assert payouts(books) == []  # captured but inside the hold period: nothing is available yet
    with books.engine.connect() as conn:
        held = payout_store.payee_balance(conn, seller)
    assert (held.available_paise, held.held_paise, held.in_flight_paise) == (0, 88_500, 0)

    assert books.settle(D).success  # settled today: the nightly run creates and submits the payout
    [payout] = payouts(books)
    assert (payout.payee_id, payout.amount_paise, payout.batch_date, payout.attempt_count) == (seller, 88_500, D, 1)
    items = books.rows("SELECT i.item_type, i.item_key, pi.amount_paise FROM payout_items pi "
                       "JOIN payee_items i USING (payee_item_id) WHERE pi.payout_id = :p",
                       p=payout.payout_id)  # fmt: skip
    assert [tuple(i) for i in items] == [("settlement", f"settlement:{D}:{seller}", 88_500)]
    settled = books.rows("SELECT order_id FROM settlements WHERE payee_item_key = :k", k=items[0].item_key)
    assert [row.order_id for row in settled] == [order]

    settle_status(books)
    [payout] = payouts(books)
    assert (payout.status, payout.gateway_status) == ("completed", "processed")
    assert books.balances() == {
        "gateway_clearing": 98_500,
        f"seller_payable:{seller}": 0,
        "platform_revenue": -10_000,
        "payouts_in_transit": 0,
        "bank": -88_500,
    }
    [paid] = witness(books)[payout.payout_id]
    assert (paid["amount"], paid["create_calls"], paid["status"]) == (88_500, 1, "processed")
    with books.engine.connect() as conn:
        after = payout_store.payee_balance(conn, seller)
    assert (after.available_paise, after.held_paise, after.in_flight_paise, after.paid_paise) == (0, 0, 0, 88_500)
    health = books.one("SELECT * FROM analytics.payout_health_daily WHERE day = :d", d=D)
    assert (health.status, health.payouts, health.amount_paise) == ("processing", 1, 88_500)  # as of the run
    assert books.one("SELECT count(*) AS n FROM notifications WHERE event_type = 'payout_completed'").n == 1

    assert books.settle(D).success  # the day again pays nothing twice
    assert len(payouts(books)) == 1
    assert_books_sound(books)


def test_below_minimum_waits_and_a_payee_without_destination_is_held_back(books: Books) -> None:
    buyer = books.user("buyer")
    small, nowhere = payee(books, "seller"), books.user("seller")
    books.paid_order(buyer, small, 11_000, ist(D, 9), delivered_at=ist(D, 10))  # net 9_735 < Rs 100
    books.paid_order(buyer, nowhere, 50_000, ist(D, 9), delivered_at=ist(D, 10))  # net 44_250, no destination
    result = books.settle(D)
    assert result.success
    assert payouts(books) == []
    batch = next(m for m in result.get_asset_materialization_events() if m.asset_key.path == ["payout_batch"])
    held = batch.materialization.metadata["held_back_payees"].value
    assert held == [{"payee_type": "seller", "payee_id": nowhere, "available_paise": 44_250,
                     "reason": "no_payout_destination"}]  # fmt: skip

    books.paid_order(buyer, small, 1_000, ist(D + dt.timedelta(days=1), 9), delivered_at=ist(D + dt.timedelta(days=1)))
    assert books.settle(D + dt.timedelta(days=1)).success  # 9_735 + 885 = 10_620 >= 10_000: paid
    [payout] = payouts(books)
    assert (payout.payee_id, payout.amount_paise) == (small, 10_620)
    assert_books_sound(books)


def test_scout_withdrawal_below_minimum_is_refused_and_a_valid_one_paid(books: Books) -> None:
    scout = payee(books, "scout")
    sellers = [payee(books, "seller", recruiter=scout) for _ in range(12)]
    buyer = books.user("buyer")
    for seller in sellers:
        books.paid_order(buyer, seller, 1_000, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success
    assert [p.payee_type for p in payouts(books)] == []  # scouts are paid on request; sellers below minimum

    with books.engine.begin() as conn:
        balance = payout_store.payee_balance(conn, scout)
        assert balance.available_paise == 12_000
        for amount, code in ((9_999, "payout_below_minimum"), (12_001, "insufficient_balance")):
            try:
                payout_store.request_withdrawal(conn, scout, amount, "test", D, now=ist(D))
            except PayoutRuleError as exc:
                assert exc.code == code
            else:
                raise AssertionError(f"{amount} was accepted")
        payout_store.request_withdrawal(conn, scout, 10_500, "test", D, now=ist(D))
        try:
            payout_store.request_withdrawal(conn, scout, 10_000, "test", D, now=ist(D))  # only 1_500 left to ask for
        except PayoutRuleError as exc:
            assert exc.code == "insufficient_balance"

    next_day = D + dt.timedelta(days=1)
    assert books.settle(next_day).success
    [payout] = payouts(books)
    assert (payout.payee_type, payout.payee_id, payout.amount_paise) == ("scout", scout, 10_500)
    items = books.rows("SELECT amount_paise FROM payout_items WHERE payout_id = :p", p=payout.payout_id)
    assert sorted(i.amount_paise for i in items) == [500] + [1_000] * 10  # oldest bounties first, the last in part
    request = books.one("SELECT status, payout_id FROM scout_payout_requests")
    assert (request.status, request.payout_id) == ("scheduled", payout.payout_id)
    settle_status(books)
    with books.engine.connect() as conn:
        after = payout_store.payee_balance(conn, scout)
    assert (after.available_paise, after.paid_paise) == (1_500, 10_500)
    assert_books_sound(books)


def test_payout_failing_three_times_returns_the_money(books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAYOUT_BACKOFF_BASE_S", "0.05")
    monkeypatch.setenv("PAYOUT_BACKOFF_MAX_S", "0.1")
    buyer, seller = books.user("buyer"), payee(books, "seller")
    books.paid_order(buyer, seller, 100_000, ist(D, 9), delivered_at=ist(D, 10))
    books.sandbox.set_faults({"payout_create": {"error_rate": 1.0, "error_status": 503}})
    assert books.settle(D).success  # attempt 1: 503
    for _ in range(2):  # attempts 2 and 3, each after its backoff
        wait_until_due(books)
        submit(books, max_attempts=3)
    [payout] = payouts(books)
    assert (payout.status, payout.attempt_count) == ("failed", 3)
    attempts = books.rows("SELECT outcome, http_status FROM payout_attempts ORDER BY attempt_number")
    assert [tuple(a) for a in attempts] == [("retriable", 503)] * 3
    assert books.sandbox.payouts() == []
    assert books.balances()[f"seller_payable:{seller}"] == -88_500  # owed again
    assert books.balances()["payouts_in_transit"] == 0
    notes = books.rows("SELECT audience, event_type FROM notifications WHERE event_type = 'payout_failed' ORDER BY 1")
    assert [tuple(n) for n in notes] == [("finance", "payout_failed"), ("user", "payout_failed")]

    books.sandbox.set_faults({})
    with books.engine.begin() as conn:
        retry_id = payout_store.retry_payout(conn, payout.payout_id, "finance@test", D)
    submit(books)
    settle_status(books)
    retry = books.one("SELECT * FROM payouts WHERE payout_id = :p", p=retry_id)
    assert (retry.status, retry.amount_paise, retry.retry_of_payout_id) == ("completed", 88_500, payout.payout_id)
    assert books.balances()[f"seller_payable:{seller}"] == 0
    assert books.one("SELECT count(*) AS n FROM audit_log WHERE action = 'payout.retry'").n == 1
    assert_books_sound(books)


def test_reversed_payout_returns_the_money(books: Books) -> None:
    buyer = books.user("buyer")
    seller = payee(books, "seller", {"type": "vpa", "vpa": "reverse.me@okaxis"})  # the sandbox reverses it
    books.paid_order(buyer, seller, 100_000, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success
    settle_status(books)
    [payout] = payouts(books)
    assert payout.status == "reversed"
    assert books.balances() == {
        "gateway_clearing": 98_500,
        f"seller_payable:{seller}": -88_500,
        "platform_revenue": -10_000,
        "payouts_in_transit": 0,
        "bank": 0,
    }
    steps = books.rows("SELECT entry_type FROM journal_entries WHERE reference_id = :p ORDER BY entry_id",
                       p=payout.payout_id)  # fmt: skip
    assert [s.entry_type for s in steps] == ["payout_sent", "payout_completed", "payout_reversed"]
    assert_books_sound(books)


def wait_until_due(books: Books) -> None:
    while books.one("SELECT count(*) AS n FROM payouts WHERE status = 'pending' AND next_attempt_at > now()").n:
        time.sleep(0.02)
