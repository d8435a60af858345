"""The per-order subledger under per-seller-day entries: what each night writes, under which keys,
and that a late confirmation, a re-run of an old day and two runs at once post nothing twice.

Defaults: platform fee 10%, gateway fee 1.5%, hold 2 days, minimum payout Rs 100.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path

from domain.ledger import closing, posting
from domain.money import bps_of
from domain.platform.clock import Day
from domain.settlement import store
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import payee, payouts, settle_status

D = dt.date(2026, 11, 10)


def _entries(books: Books) -> list[tuple[str, str]]:
    rows = books.rows("SELECT idempotency_key, entry_type FROM journal_entries ORDER BY entry_id")
    return [(row.idempotency_key, row.entry_type) for row in rows]


def test_one_entry_per_seller_and_day_over_one_row_per_order(books: Books) -> None:
    buyer, first, second = books.user("buyer"), books.user("seller"), books.user("seller")
    for amount in (10_000, 20_000, 30_000):  # first seller: gross 60_000, gateway 900, platform 6_000
        books.paid_order(buyer, first, amount, ist(D, 9), delivered_at=ist(D, 10))
    books.paid_order(buyer, second, 1_005, ist(D, 11), delivered_at=ist(D, 12))  # 101 + 15 fees, net 889
    orders_before = books.snapshot()["orders"]

    assert books.settle(D).success
    assert sorted(_entries(books)) == sorted(
        [(f"capture:{D}:{first}", "payment_captured"), (f"capture:{D}:{second}", "payment_captured")]
    )
    lines = books.rows(
        "SELECT j.idempotency_key, l.account_id, l.amount_paise FROM ledger_lines l "
        "JOIN journal_entries j ON j.entry_id = l.entry_id ORDER BY 1, 2"
    )
    assert sorted((r.idempotency_key, r.account_id, r.amount_paise) for r in lines) == sorted(
        [
            (f"capture:{D}:{first}", "gateway_clearing", 60_000 - 900),
            (f"capture:{D}:{first}", f"seller_payable:{first}", -(60_000 - 900 - 6_000)),
            (f"capture:{D}:{first}", "platform_revenue", -6_000),
            (f"capture:{D}:{second}", "gateway_clearing", 1_005 - 15),
            (f"capture:{D}:{second}", f"seller_payable:{second}", -889),
            (f"capture:{D}:{second}", "platform_revenue", -101),
        ]
    )
    # The orders are in the subledger: one capture and one settlement row each, naming their entry.
    captured = books.rows(
        "SELECT c.order_id, c.gross_paise, c.platform_fee_paise, c.gateway_fee_paise, c.seller_net_paise, "
        "j.idempotency_key FROM captures c JOIN journal_entries j ON j.entry_id = c.entry_id ORDER BY c.gross_paise"
    )
    assert [tuple(r)[1:] for r in captured] == [
        (1_005, 101, 15, 889, f"capture:{D}:{second}"),
        (10_000, 1_000, 150, 8_850, f"capture:{D}:{first}"),
        (20_000, 2_000, 300, 17_700, f"capture:{D}:{first}"),
        (30_000, 3_000, 450, 26_550, f"capture:{D}:{first}"),
    ]
    groups = books.rows("SELECT payee_item_key, orders, gross_paise, net_paise FROM settlement_groups ORDER BY orders")
    assert [tuple(g) for g in groups] == [
        (f"settlement:{D}:{second}", 1, 1_005, 889),
        (f"settlement:{D}:{first}", 3, 60_000, 53_100),
    ]
    # Per order, the night wrote its capture and its settlement and nothing else: no order row changed.
    assert books.snapshot()["orders"] == orders_before
    assert books.one("SELECT count(*) AS n FROM notifications WHERE event_type = 'order_status_changed'").n == 0
    assert books.one("SELECT count(*) AS n FROM notifications WHERE event_type = 'settlement_statement'").n == 2
    assert_books_sound(books)


def test_a_late_confirmation_is_posted_under_a_new_key_in_a_later_run(books: Books) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")
    books.paid_order(buyer, seller, 10_000, ist(D, 9), delivered_at=ist(D, 10))
    late = books.paid_order(buyer, seller, 20_000, ist(D, 11), delivered_at=ist(D, 12), gateway=None)
    assert books.settle(D).success  # the gateway does not know the second payment yet: held back

    books.sandbox.pay(late, 20_000, "COMPLETED")
    books.confirm(ist(D + dt.timedelta(days=1), 9))  # the sensor asks again later that morning
    assert books.settle(D).success  # the day again: the late payment is captured now, under a new key
    next_day = D + dt.timedelta(days=1)
    assert books.settle(next_day).success  # nothing left to capture
    assert sorted(_entries(books)) == [
        (f"capture:{D}:{seller}", "payment_captured"),
        (f"capture:{D}:{seller}:2", "payment_captured"),
    ]
    second = books.one(
        "SELECT c.capture_date, j.idempotency_key FROM captures c JOIN journal_entries j ON j.entry_id = c.entry_id "
        "WHERE c.order_id = :o",
        o=late,
    )
    assert tuple(second) == (D, f"capture:{D}:{seller}:2")
    # Settled into a second group of the same day: what was paid out (nothing here) is never merged into.
    assert [r.payee_item_key for r in books.rows("SELECT payee_item_key FROM settlement_groups ORDER BY 1")] == [
        f"settlement:{D}:{seller}",
        f"settlement:{D}:{seller}:2",
    ]
    assert books.balances()[f"seller_payable:{seller}"] == -(8_850 + 17_700)
    assert_books_sound(books)


def test_a_payment_confirmed_after_its_night_is_captured_by_the_next_night(books: Books) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")
    late = books.paid_order(buyer, seller, 20_000, ist(D, 23), delivered_at=ist(D, 23, 30), gateway=None)
    assert books.settle(D).success
    assert books.rows("SELECT * FROM captures") == []

    books.sandbox.pay(late, 20_000, "COMPLETED")
    next_day = D + dt.timedelta(days=1)
    assert books.settle(next_day).success
    assert _entries(books) == [(f"capture:{next_day}:{seller}", "payment_captured")]
    row = books.one("SELECT capture_date FROM captures WHERE order_id = :o", o=late)
    assert row.capture_date == next_day
    assert books.one("SELECT settlement_date FROM settlements WHERE order_id = :o", o=late)[0] == next_day


def test_re_running_an_old_day_after_later_days_ran_posts_nothing(books: Books) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")
    days = [D + dt.timedelta(days=n) for n in range(3)]
    for day in days:
        books.paid_order(buyer, seller, 10_000, ist(day, 9), delivered_at=ist(day, 10))
        books.paid_order(buyer, seller, 30_000, ist(day, 9))  # settles after the hold, on day + 2
    for day in days:
        assert books.settle(day).success
    before = books.snapshot()
    assert books.settle(days[0]).success
    assert books.settle(days[1]).success
    assert books.snapshot() == before
    # 3 days x 1 entry; day 2 settles day 0's held order with its own: two orders in one group.
    assert len(_entries(books)) == 3
    assert [tuple(r) for r in books.rows("SELECT settlement_date, orders FROM settlement_groups ORDER BY 1")] == [
        (days[0], 1),
        (days[1], 1),
        (days[2], 2),
    ]
    assert_books_sound(books)


def test_two_runs_of_one_day_at_once_post_everything_once(books: Books) -> None:
    buyer = books.user("buyer")
    sellers = [books.user("seller") for _ in range(4)]
    for n, seller in enumerate(sellers * 5):
        books.paid_order(buyer, seller, 10_000 + n, ist(D, 9), delivered_at=ist(D, 10))
    books.confirm(ist(D + dt.timedelta(days=1), 2))
    day = Day.of(D)
    errors: list[Exception] = []

    def run() -> None:
        try:
            with books.engine.begin() as conn:
                store.post_captures(conn, day)
            with books.engine.begin() as conn:
                store.record_settlements(conn, day)
            closing.close_ledger(books.engine, day)
        except Exception as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(_entries(books)) == 4
    assert books.one("SELECT count(*) AS n FROM captures").n == 20
    assert books.one("SELECT count(*) AS n FROM settlement_groups").n == 4
    assert books.balances()["gateway_clearing"] == sum(10_000 + n - bps_of(10_000 + n, 150) for n in range(20))
    assert_books_sound(books)


def test_two_nightly_processes_at_once_settle_the_day_once(books: Books, tmp_path: Path) -> None:
    buyer = books.user("buyer")
    sellers = [payee(books, "seller") for _ in range(3)]
    for n, seller in enumerate(sellers * 4):
        books.paid_order(buyer, seller, 20_000 + n, ist(D, 9), delivered_at=ist(D, 10))
    books.confirm(ist(D + dt.timedelta(days=1), 2))
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": books.engine.url.render_as_string(hide_password=False),
        "PHONEPE_BASE_URL": books.sandbox.settings.phonepe_base_url,
        "RAZORPAYX_BASE_URL": books.sandbox.settings.razorpayx_base_url,
        "LOG_LEVEL": "WARNING",
    }
    settle = [sys.executable, "-c", "from cli.main import main; main()"]
    # The Dagster instance both processes share is set up once, as in a deployment.
    subprocess.run([*settle, "migrate"], env={**env, "DATA_DIR": str(tmp_path)}, check=True, capture_output=True)
    command = [*settle, "nightly", "--date", D.isoformat()]
    processes = [
        subprocess.Popen(
            command,
            env={**env, "DATA_DIR": str(tmp_path)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=240)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert len(_entries(books)) == 3 + 3  # a capture and a payout entry per seller, once
    assert len(payouts(books)) == 3
    settle_status(books)
    assert [p.status for p in payouts(books)] == ["completed"] * 3
    assert_books_sound(books)


def test_every_paisa_of_a_payout_traces_to_its_orders_and_fees(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    orders = [
        books.paid_order(buyer, seller, amount, ist(D, 9), delivered_at=ist(D, 10)) for amount in (40_000, 80_000)
    ]
    assert books.settle(D).success
    [payout] = payouts(books)
    trace = books.rows(
        """SELECT pi.amount_paise AS covered_paise, i.item_key, s.order_id, c.gross_paise, c.platform_fee_paise,
                  c.gateway_fee_paise, c.seller_net_paise, j.idempotency_key
           FROM payout_items pi
           JOIN payee_items i ON i.payee_item_id = pi.payee_item_id
           JOIN settlements s ON s.payee_item_key = i.item_key
           JOIN captures c ON c.order_id = s.order_id
           JOIN journal_entries j ON j.entry_id = c.entry_id
           WHERE pi.payout_id = :p ORDER BY c.gross_paise""",
        p=payout.payout_id,
    )
    # Rs 400: platform 4_000, gateway 600, net 35_400; Rs 800: 8_000, 1_200, 70_800; paid 106_200.
    assert [
        (r.order_id, r.gross_paise, r.platform_fee_paise, r.gateway_fee_paise, r.seller_net_paise) for r in trace
    ] == [
        (orders[0], 40_000, 4_000, 600, 35_400),
        (orders[1], 80_000, 8_000, 1_200, 70_800),
    ]
    assert {(r.covered_paise, r.item_key, r.idempotency_key) for r in trace} == {
        (106_200, f"settlement:{D}:{seller}", f"capture:{D}:{seller}")
    }
    assert payout.amount_paise == sum(r.seller_net_paise for r in trace) == 106_200


def test_a_balance_is_the_close_plus_the_lines_since(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    books.paid_order(buyer, seller, 100_000, ist(D, 9), delivered_at=ist(D, 10))  # net 88_500, paid out
    assert books.settle(D).success
    close = books.one("SELECT * FROM ledger_closes ORDER BY close_id DESC LIMIT 1")
    totals = {r.account_type: r.balance_paise for r in books.rows("SELECT * FROM closing_totals WHERE close_id = :c",
                                                                  c=close.close_id)}  # fmt: skip
    assert totals == {
        "gateway_clearing": 98_500,
        "seller_payable": -88_500,
        "platform_revenue": -10_000,
    }  # the payout is posted after the close
    settle_status(books)  # the payout completes: lines after the close
    with books.engine.connect() as conn:
        assert posting.account_balance(conn, f"seller_payable:{seller}") == 0
        assert posting.account_balance(conn, "bank") == -88_500
        assert posting.account_balance(conn, "payouts_in_transit") == 0
    assert books.balances()["bank"] == -88_500
    assert_books_sound(books)


def test_settled_status_is_derived_and_the_api_shows_it(books: Books) -> None:
    from tests.scenarios.payouts import api

    buyer, seller = books.user("buyer"), books.user("seller")
    settled = books.paid_order(buyer, seller, 10_000, ist(D, 9), delivered_at=ist(D, 10))
    waiting = books.paid_order(buyer, seller, 10_000, ist(D, 9))
    assert books.settle(D).success
    assert books.one("SELECT status FROM orders WHERE order_id = :o", o=settled).status == "delivered"
    client, headers = api(books)
    assert client.get(f"/v1/orders/{settled}", headers=headers).json()["status"] == "settled"
    assert client.get(f"/v1/orders/{waiting}", headers=headers).json()["status"] == "paid"
    listed = client.get("/v1/orders", params={"status": "settled"}, headers=headers).json()["items"]
    assert [item["order_id"] for item in listed] == [settled]
    listed = client.get("/v1/orders", params={"status": "delivered"}, headers=headers).json()["items"]
    assert listed == []
    # A settled order cannot be delivered or cancelled again, as when the status was written.
    refused = client.post(
        f"/v1/orders/{settled}/events", json={"event": "cancelled"}, headers={**headers, "Idempotency-Key": "cancel-1"}
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "illegal_transition")
