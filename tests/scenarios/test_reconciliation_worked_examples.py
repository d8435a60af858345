"""Reconciliation worked examples to the paisa: a day of payments and a refund, the sandbox's report
with planted anomalies downloaded over HTTP, every item classified once, the residual 0.

The sandbox reports the day the gateway made each payment and refund, which is today, so the
examples run on today's IST date. Gateway fee 1.5% and GST 18% on the fee, as the schedule says:
a payment of Rs 100 settles 10_000 - 150 - 27 = 9_823 paise.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from domain.orders.tables import orders
from domain.platform.clock import Day
from domain.platform.ids import new_id
from domain.reconciliation import resolution, workflow
from domain.reconciliation.store import Reconciliation
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import payee, payouts

WINDOW_DAYS = 3


def _day(books: Books) -> tuple[dt.datetime, Day]:
    now = dt.datetime.now(dt.UTC)
    return now, Day.containing(now)


def _reconcile(books: Books, day: Day, now: dt.datetime) -> Reconciliation:
    client = books.sandbox.phonepe_client()
    try:
        workflow.fetch_report(books.engine, client, day.date)
    finally:
        client.close()
    result = workflow.reconcile_day(books.engine, day.date, now=now, settlement_window_days=WINDOW_DAYS)
    assert result is not None
    return result


def _cancelled_order(books: Books, buyer: str, seller: str, amount_paise: int) -> str:
    order_id = new_id("ord")
    created = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
    with books.engine.begin() as conn:
        conn.execute(
            sa.insert(orders).values(
                order_id=order_id, buyer_id=buyer, seller_id=seller, listing_id="lst_1", amount_paise=amount_paise,
                status="cancelled", cancelled_at=created + dt.timedelta(hours=1), created_at=created,
            )
        )  # fmt: skip
    return order_id


def _items(books: Books, report_id: int) -> dict[str, list[tuple[Any, ...]]]:
    by_class: dict[str, list[tuple[Any, ...]]] = {}
    for row in books.rows(
        "SELECT class, reference_id, expected_paise, reported_paise FROM recon_items WHERE report_id = :r "
        "ORDER BY item_no",
        r=report_id,
    ):
        by_class.setdefault(row[0], []).append(tuple(row[1:]))
    return by_class


def test_every_planted_anomaly_is_classified_once_and_the_residual_is_zero(books: Books) -> None:
    now, day = _day(books)
    buyer, seller = books.user("buyer"), books.user("seller")
    paid_at = max(now - dt.timedelta(minutes=5), day.start + dt.timedelta(seconds=1))
    matched, short, missing, twice, overcharged, late, refunded = (
        books.paid_order(buyer, seller, 10_000, paid_at) for _ in range(7)
    )
    books.settle(day.date)
    refund = refunds.request(books, refunded, 4_000, now)
    refunds.refund_now(books, now)
    books.sandbox.configure(
        report_anomalies={
            "amount_diff": {short: -1_000, refund.refund_id: 100},
            "missing": [missing],
            "duplicate": [twice],
            "fee_diff": {overcharged: 50},
            "late": [late],
            "unknown_count": 1,
        }
    )

    result = _reconcile(books, day, now)

    items = _items(books, result.report.report_id)
    assert {klass: sorted(ref for ref, *_ in rows) for klass, rows in items.items() if klass != "missing_in_books"} == {
        "matched": sorted([matched, twice, refunded]),
        "amount_mismatch": [short],
        "fee_mismatch": [overcharged],
        "duplicate": [twice],
        "refund_mismatch": [refund.refund_id],
        "missing_in_report_pending": sorted([missing, late]),
    }
    [(unknown, unknown_expected, unknown_reported)] = items["missing_in_books"]
    assert unknown.startswith("UNKNOWN_0_") and unknown_expected == 0 and unknown_reported > 0
    # Short: 9_000 reported, fee 135, GST bps_of(135, 1800) = 24: 8_841 against 9_823.
    assert items["amount_mismatch"] == [(short, 9_823, 8_841)]
    # Overcharged: fee 150 + 50 = 200, GST 36: 9_764 against 9_823.
    assert items["fee_mismatch"] == [(overcharged, 9_823, 9_764)]
    assert items["duplicate"] == [(twice, 0, 9_823)]
    # The refund of 4_000 reported as 4_100 going back to the buyer.
    assert items["refund_mismatch"] == [(refund.refund_id, -4_000, -4_100)]
    assert sorted(items["missing_in_report_pending"]) == sorted([(missing, 9_823, 0), (late, 9_823, 0)])

    # Books: 7 payments of 9_823 less the refund of 4_000 = 64_761. Report: matched 2 x 9_823, the
    # short 8_841, the duplicate 9_823 twice, the overcharged 9_764, the refund -4_100, the unknown.
    assert result.books_total_paise == 7 * 9_823 - 4_000
    assert result.report_total_paise == 4 * 9_823 + 8_841 + 9_764 - 4_100 + unknown_reported
    assert result.residual_paise == 0
    differences = {line.klass: line.difference_paise for line in result.lines if line.items}
    assert differences == {
        "matched": 0,
        "amount_mismatch": 8_841 - 9_823,
        "fee_mismatch": 9_764 - 9_823,
        "refund_mismatch": -100,
        "missing_in_report_pending": -2 * 9_823,
        "missing_in_books": unknown_reported,
        "duplicate": 9_823,
    }
    assert sum(differences.values()) == result.difference_paise
    # Five breaks (pending items are not breaks yet), one finance alert naming them.
    assert result.new_exceptions == {
        "amount_mismatch": 1, "fee_mismatch": 1, "refund_mismatch": 1, "missing_in_books": 1, "duplicate": 1,
    }  # fmt: skip
    alerts = books.rows("SELECT payload FROM notifications WHERE event_type = 'recon_breaks_found'")
    assert [alert.payload["new_exceptions"] for alert in alerts] == [5]

    # The bank's transfer puts every break's difference in suspense; accepting each break moves it to
    # platform revenue, and suspense is empty. Clearing still holds the two payments not yet settled.
    bank = books.sandbox.razorpayx_client()
    try:
        assert workflow.post_cash(books.engine, bank, day.date, now=now) is not None
    finally:
        bank.close()
    # Clearing held 5 x 9_850 - 4_000 = 45_250 for the listed rows; their GST 5 x 27 = 135.
    assert books.balances()["recon_suspense"] == 45_250 - 135 - result.report_total_paise
    with books.engine.begin() as conn:
        for (exception_id,) in conn.execute(sa.text("SELECT exception_id FROM recon_exceptions ORDER BY 1")).all():
            resolution.resolve(
                conn, exception_id, action="accept_gateway", reason="the report is right", actor="finance",
                approver=None, now=now, request_id=None, write_off_approval_paise=10_000,
            )  # fmt: skip
    balances = books.balances()
    assert (balances.get("recon_suspense", 0), balances["gateway_clearing"]) == (0, 2 * 9_850)
    assert_books_sound(books)


def test_re_running_a_day_changes_nothing_and_a_late_row_clears_its_break(books: Books) -> None:
    now, day = _day(books)
    buyer, seller = books.user("buyer"), books.user("seller")
    paid_at = max(now - dt.timedelta(minutes=5), day.start + dt.timedelta(seconds=1))
    _on_time, late = (books.paid_order(buyer, seller, 10_000, paid_at) for _ in range(2))
    books.settle(day.date)
    books.sandbox.configure(report_anomalies={"late": [late]})
    after_window = now + dt.timedelta(days=WINDOW_DAYS + 1)

    first = _reconcile(books, day, after_window)
    exceptions = books.rows("SELECT exception_id, class AS klass, reference_id, status FROM recon_exceptions")
    assert [(e.klass, e.reference_id, e.status) for e in exceptions] == [("missing_in_report", late, "open")]
    again = _reconcile(books, day, after_window)
    assert again.report.report_id == first.report.report_id and not again.report.created  # the same file
    assert books.rows("SELECT exception_id, class AS klass, reference_id, status FROM recon_exceptions") == exceptions
    assert again.lines == first.lines and again.new_exceptions == {}

    # The next day's report lists the late payment; re-running the day finds it settled later.
    tomorrow = Day.of(day.date + dt.timedelta(days=1))
    client = books.sandbox.phonepe_client()
    try:
        workflow.fetch_report(books.engine, client, tomorrow.date)
    finally:
        client.close()
    cleared = workflow.reconcile_day(books.engine, day.date, now=after_window, settlement_window_days=WINDOW_DAYS)
    assert cleared is not None and cleared.cleared_exceptions == 1 and cleared.residual_paise == 0
    assert {line.klass: line.items for line in cleared.lines if line.items} == {"matched": 1, "settled_later": 1}
    [resolved] = books.rows("SELECT status, resolution, resolved_by FROM recon_exceptions")
    assert tuple(resolved) == ("resolved", "cleared", "reconciliation")
    next_day = workflow.reconcile_day(books.engine, tomorrow.date, now=after_window, settlement_window_days=WINDOW_DAYS)
    assert next_day is not None and next_day.residual_paise == 0
    assert {line.klass: line.items for line in next_day.lines if line.items} == {"late_settlement": 1}
    assert next_day.difference_paise == 9_823


def test_the_bank_transfer_is_posted_per_batch_and_its_gaps_held_in_suspense(books: Books) -> None:
    now, day = _day(books)
    buyer, seller = books.user("buyer"), books.user("seller")
    paid_at = max(now - dt.timedelta(minutes=5), day.start + dt.timedelta(seconds=1))
    orders = [books.paid_order(buyer, seller, 10_000, paid_at) for _ in range(3)]
    books.settle(day.date)
    books.sandbox.configure(
        report_anomalies={"amount_diff": {orders[1]: -1_000}, "transfer_diff": {day.date.isoformat(): -5}}
    )
    _reconcile(books, day, now)

    bank = books.sandbox.razorpayx_client()
    try:
        outcome = workflow.post_cash(books.engine, bank, day.date, now=now)
        again = workflow.post_cash(books.engine, bank, day.date, now=now)
    finally:
        bank.close()
    assert outcome is not None and again is not None
    [batch], waiting = outcome
    # Rows: 9_823 + 8_841 (the short one: 9_000 less fee 135 and GST 24) + 9_823 = 28_487; the bank got 5 less.
    assert (batch.rows_settled_paise, batch.transfer_paise, waiting) == (28_487, 28_482, [])
    # Clearing held 3 x 9_850 = 29_550; the GST on the fees, 3 x 27 = 81, is the platform's input credit;
    # suspense keeps 29_550 - 81 - 28_482 = 987: the short row's 982 and the transfer's 5.
    assert batch.suspense_paise == 987
    assert again == ([], [])  # posted once: the batch is not posted again
    balances = books.balances()
    assert {account: balances.get(account, 0) for account in ("bank", "gateway_clearing", "gst_input_credit",
            "recon_suspense")} == {"bank": 28_482, "gateway_clearing": 0, "gst_input_credit": 81,
                                   "recon_suspense": 987}  # fmt: skip
    breaks = books.rows(
        "SELECT class AS klass, reference_id, expected_paise, reported_paise FROM recon_exceptions ORDER BY class"
    )
    assert [tuple(row) for row in breaks] == [
        ("amount_mismatch", orders[1], 9_823, 8_841),
        ("batch_total_mismatch", batch.utr, 28_487, 28_482),
    ]
    assert_books_sound(books)


def test_a_payment_after_cancellation_is_its_own_break_and_its_refund_matches(books: Books) -> None:
    now, day = _day(books)
    buyer, seller = books.user("buyer"), books.user("seller")
    paid_at = max(now - dt.timedelta(minutes=5), day.start + dt.timedelta(seconds=1))
    sale = books.paid_order(buyer, seller, 10_000, paid_at)
    books.settle(day.date)
    stray_order = _cancelled_order(books, buyer, seller, 25_000)
    books.sandbox.pay(stray_order, 25_000)  # paid anyway: a stray payment, refunded in full by the system
    books.sandbox.flush()
    refunds.store_webhooks(books)
    refunds.check_strays(books, dt.datetime.now(dt.UTC))  # stray reports are stamped by the database's clock
    refunds.refund_now(books, dt.datetime.now(dt.UTC))

    result = _reconcile(books, day, now)
    items = _items(books, result.report.report_id)
    [refund_id] = [row.refund_id for row in books.rows("SELECT refund_id FROM refunds WHERE kind = 'stray'")]
    # The stray: 25_000 less fee 375 and GST 68 = 24_557, which our books know; its refund -25_000 matches.
    assert items["paid_after_cancellation"] == [(stray_order, 0, 24_557)]
    assert sorted(items["matched"]) == sorted([(sale, 9_823, 9_823), (refund_id, -25_000, -25_000)])
    assert result.residual_paise == 0
    [stray_break] = books.rows("SELECT class AS klass, expected_paise, reported_paise FROM recon_exceptions")
    assert tuple(stray_break) == ("paid_after_cancellation", 24_557, 24_557)  # nothing in suspense for it

    bank = books.sandbox.razorpayx_client()
    try:
        outcome = workflow.post_cash(books.engine, bank, day.date, now=now)
    finally:
        bank.close()
    assert outcome is not None
    [batch], _ = outcome
    # Rows: 9_823 + 24_557 - 25_000 = 9_380 transferred; clearing held 9_850 + 24_625 - 25_000 = 9_475;
    # GST 27 + 68 = 95 is input credit; nothing left in suspense.
    assert (batch.transfer_paise, batch.suspense_paise) == (9_380, 0)
    balances = books.balances()
    assert (balances["gateway_clearing"], balances.get("recon_suspense", 0), balances["gst_input_credit"]) == (0, 0, 95)
    assert_books_sound(books)


def test_a_seller_is_paid_only_once_the_gateway_reports_the_payment(books: Books) -> None:
    """PAYOUT_REQUIRES_SETTLED_FUNDS (on by default): the nightly run takes the day's report, and a
    seller's settlement waits until the report lists every one of its payments for its full amount."""
    day = dt.date(2026, 11, 10)
    buyer, seller = books.user("buyer"), payee(books, "seller")
    order = books.paid_order(buyer, seller, 100_000, ist(day, 9), delivered_at=ist(day, 10))
    books.sandbox.configure(report_anomalies={"late": [order]})  # the gateway lists it a day late

    night = books.settle(day)
    assert night.success and payouts(books) == []
    [batch] = night.asset_materializations_for_node("payout_batch")
    held = batch.metadata["held_back_payees"].value
    assert held == [
        {"payee_type": "seller", "payee_id": seller, "available_paise": 88_500, "reason": "awaiting_gateway_settlement"}
    ]  # Rs 1,000 less 10% platform fee and 1.5% gateway fee, owed but not yet paid us by the gateway

    assert books.settle(day + dt.timedelta(days=1)).success  # the next day's report lists it
    [payout] = payouts(books)
    assert (payout.payee_id, payout.amount_paise) == (seller, 88_500)


def test_a_report_not_yet_published_holds_the_day_and_a_later_night_pays(books: Books) -> None:
    day = dt.date(2026, 11, 10)
    buyer, seller = books.user("buyer"), payee(books, "seller")
    books.paid_order(buyer, seller, 100_000, ist(day, 9), delivered_at=ist(day, 10))
    books.sandbox.set_faults({"settlement_report": {"error_rate": 1.0, "error_status": 404}})

    night = books.settle(day)
    assert night.success and payouts(books) == []  # the night runs; the day's seller waits
    [report] = night.asset_materializations_for_node("settlement_report")
    assert report.metadata["published"].value is False
    assert books.one("SELECT count(*) AS n FROM gateway_reports").n == 0

    books.sandbox.set_faults({})
    assert books.settle(day).success  # re-run once PhonePe has published it
    [payout] = payouts(books)
    assert (payout.payee_id, payout.amount_paise) == (seller, 88_500)
