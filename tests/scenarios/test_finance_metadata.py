"""What finance reads in the Dagster UI on a night's materializations, to the paisa: the day statement
and the books at the close (analytics/daily_revenue), the held-back payees (payout_batch), the failed
payouts (payout_submission) and the open breaks (recon_statement), and the plain numbers Dagster plots
across days.

Defaults: platform fee 10%, gateway fee 1.5%, minimum payout Rs 100, hold 2 days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg

from domain.payouts import store as payout_store
from pipelines.definitions import defs
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound, ist
from tests.scenarios.payouts import payee, settle_status

D = dt.date(2026, 11, 10)


def _metadata(result: dg.ExecuteInJobResult, *path: str) -> dict[str, Any]:
    [materialization] = [
        event.materialization
        for event in result.get_asset_materialization_events()
        if event.asset_key == dg.AssetKey(list(path))
    ]
    return {key: value.value for key, value in materialization.metadata.items()}


def _records(value: Any) -> list[dict[str, Any]]:
    return [record.data for record in value.records]


def _night_with_a_failure_and_holds(books: Books) -> dict[str, str]:
    """Four sellers' delivered orders on D and a partial refund before the night; one seller's bank
    refuses its payout, one has no payout destination, one is on hold."""
    buyer = books.user("buyer")
    sellers = {
        "paid": payee(books, "seller"),
        "refused": payee(books, "seller", {"type": "vpa", "vpa": "will.fail@okaxis"}),  # the sandbox's bank refuses
        "nowhere": books.user("seller"),
        "held": payee(books, "seller"),
    }
    for name, amount in (("paid", 100_000), ("refused", 50_000), ("nowhere", 200_000), ("held", 20_000)):
        order = books.paid_order(buyer, sellers[name], amount, ist(D, 9), delivered_at=ist(D, 10))
        if name == "paid":
            refunds.request(books, order, 10_000, ist(D, 12))
    assert refunds.refund_now(books, ist(D, 12))["submitted"] == 1
    with books.engine.begin() as conn:
        payout_store.hold_payee(conn, sellers["held"], "KYC review", "finance@test")
    return sellers


def test_the_night_carries_the_day_statement_holds_and_failures(books: Books) -> None:
    sellers = _night_with_a_failure_and_holds(books)
    assert books.settle(D).success
    settle_status(books)  # the bank refuses one payout and pays the other
    night = books.settle(D)  # the day again, after midnight: nothing is paid twice, the figures are final
    assert night.success

    revenue = _metadata(night, "analytics", "daily_revenue")
    # GMV 100_000 + 50_000 + 200_000 + 20_000 = 370_000; platform fee 10% = 37_000; gateway fee 1.5% =
    # 1_500 + 750 + 3_000 + 300 = 5_550; seller net 370_000 - 37_000 - 5_550 = 327_450. The refund of
    # 10_000 reverses 10% of the fee (1_000) and takes 9_000 back from the seller; net revenue
    # 37_000 - 1_000 = 36_000.
    assert {key: value for key, value in revenue.items() if isinstance(value, int)} == {
        "rows": 1,
        "orders_captured": 4,
        "gmv_paise": 370_000,
        "platform_fee_paise": 37_000,
        "gateway_fee_paise": 5_550,
        "seller_net_paise": 327_450,
        "refunds_paise": 10_000,
        "clawback_paise": 9_000,
        "bounty_paise": 0,
        "net_revenue_paise": 36_000,
    }
    assert revenue["day_statement"].splitlines() == [
        f"### Day statement {D} (IST)",
        "",
        "| | Count | Amount |",
        "|---|---:|---:|",
        "| GMV captured | 4 | Rs 3,700.00 |",
        "| Platform fee |  | Rs 370.00 |",
        "| Gateway fee |  | Rs 55.50 |",
        "| Seller net |  | Rs 3,274.50 |",
        "| Refunds completed | 1 | Rs 100.00 |",
        "| Platform fee reversed |  | Rs 10.00 |",
        "| Taken back from sellers |  | Rs 90.00 |",
        "| Refunds failed | 0 | Rs 0.00 |",
        "| Bounties |  | Rs 0.00 |",
        "| Gateway fee on stray payments |  | Rs 0.00 |",
        "| Net revenue |  | Rs 360.00 |",
        "",
        # paid: 88_500 - 9_000 = 79_500; refused: 50_000 - 5_000 - 750 = 44_250
        "Payouts of the day: completed 1 (Rs 795.00), failed 1 (Rs 442.50).",
    ]
    assert len(revenue["day_statement"]) < 1_000  # shown inline in the UI
    # At the day's last close: clearing 370_000 - 5_550 - 10_000; sellers owed 327_450 - 9_000 less
    # the 79_500 paid (the refused 44_250 came back); revenue 37_000 - 1_000; the bank paid 79_500.
    assert _records(revenue["balances_at_close"]) == [
        {"account_type": "bank", "balance": "-Rs 795.00"},
        {"account_type": "gateway_clearing", "balance": "Rs 3,544.50"},
        {"account_type": "payouts_in_transit", "balance": "Rs 0.00"},
        {"account_type": "platform_revenue", "balance": "-Rs 360.00"},
        {"account_type": "seller_payable", "balance": "-Rs 2,389.50"},
    ]

    batch = _metadata(night, "payout_batch")
    # nowhere: 200_000 - 20_000 - 3_000 = 177_000; held: 20_000 - 2_000 - 300 = 17_700
    assert (batch["payouts_created"], batch["held_back"], batch["held_back_paise"]) == (0, 2, 194_700)
    assert _records(batch["top_held_back_payees"]) == [
        {"payee_type": "seller", "payee_id": sellers["nowhere"], "reason": "no_payout_destination",
         "balance": "Rs 1,770.00"},
        {"payee_type": "seller", "payee_id": sellers["held"], "reason": "on_hold", "balance": "Rs 177.00"},
    ]  # fmt: skip

    submission = _metadata(night, "payout_submission")
    [refused] = books.rows("SELECT payout_id FROM payouts WHERE status = 'failed'")
    assert {key: submission[key] for key in submission if key.startswith("payouts_")} == {
        "payouts_pending": 0,
        "payouts_processing": 0,
        "payouts_completed": 1,
        "payouts_failed": 1,
        "payouts_cancelled": 0,
        "payouts_reversed": 0,
        "payouts_completed_paise": 79_500,
        "payouts_failed_paise": 44_250,
    }
    assert _records(submission["failed_payouts"]) == [
        {"payout_id": refused.payout_id, "payee_id": sellers["refused"], "amount": "Rs 442.50",
         "failure_reason": "Payout failed at the beneficiary bank"},
    ]  # fmt: skip
    assert_books_sound(books)


def _reconcile(books: Books, day: dt.date) -> dict[str, Any]:
    result = defs.resolve_job_def("reconciliation").execute_in_process(
        partition_key=day.isoformat(), instance=books.instance, raise_on_error=False
    )
    return _metadata(result, "recon_statement")


def test_open_breaks_are_listed_with_their_age_until_resolved(books: Books) -> None:
    buyer, seller = books.user("buyer"), payee(books, "seller")
    orders = [books.paid_order(buyer, seller, 10_000, ist(D, 9)) for _ in range(2)]
    assert books.settle(D).success
    books.sandbox.configure(report_anomalies={"duplicate": [orders[0]]})

    statement = _reconcile(books, D)
    [exception_id] = [row.exception_id for row in books.rows("SELECT exception_id FROM recon_exceptions")]
    # The duplicated row settles 10_000 less the 150 fee and 27 GST on it: 9_823 reported twice.
    assert (statement["open_breaks"], statement["open_breaks_paise"], statement["residual_paise"]) == (1, 9_823, 0)
    assert _records(statement["oldest_open_breaks"]) == [
        {"exception_id": exception_id, "class": "duplicate", "expected": "Rs 0.00", "reported": "Rs 98.23",
         "age_days": 0},
    ]  # fmt: skip

    books.sandbox.configure(report_anomalies={})
    later = _reconcile(books, D + dt.timedelta(days=2))  # a later day still shows the break, two days old
    assert (later["open_breaks"], _records(later["oldest_open_breaks"])[0]["age_days"]) == (1, 2)
    earlier = _reconcile(books, D - dt.timedelta(days=1))  # a day before it was reported does not
    assert (earlier["open_breaks"], earlier["open_breaks_paise"], _records(earlier["oldest_open_breaks"])) == (0, 0, [])
