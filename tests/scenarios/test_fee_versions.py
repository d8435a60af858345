"""Fee schedule versions across real nights: a day paid under the new version settles with its rates,
the day before keeps the old ones, in every consumer (captures, hold period, bounties, minimum payout,
refund fee reversals); and the `add_fee_schedule` job.

Version 1 (the seed, the defaults): platform fee 10%, gateway fee 1.5%, bounty Rs 10, minimum payout
Rs 100, hold 2 days. Version 2, from N11 (added on N8): platform fee 12%, gateway fee 2%, bounty
Rs 25, minimum payout Rs 500, hold 0 days; GST on the gateway fee carried over (18%).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from domain.payouts import store as payout_store
from pipelines.definitions import defs
from tests.scenarios import refunds
from tests.scenarios.books import Books, assert_books_sound, fee_version_added_on, ist
from tests.scenarios.payouts import payee, payouts

N10, N11, N12 = dt.date(2026, 11, 10), dt.date(2026, 11, 11), dt.date(2026, 11, 12)
V2 = {
    "platform_fee_bps": 1200,
    "gateway_fee_bps": 200,
    "scout_bounty_paise": 2500,
    "min_payout_paise": 50_000,
    "hold_days": 0,
}


def _capture(books: Books, order_id: str) -> tuple[object, ...]:
    row = books.one("SELECT * FROM captures WHERE order_id = :o", o=order_id)
    return (row.capture_date, row.platform_fee_paise, row.gateway_fee_paise, row.seller_net_paise, row.fee_schedule_id)


def test_the_day_before_keeps_the_old_rates_the_day_of_the_new_version_takes_the_new(books: Books) -> None:
    v2 = fee_version_added_on(books, N11 - dt.timedelta(days=3), N11, **V2)
    assert (v2.effective_from, v2.gateway_gst_bps, v2.min_payout_paise) == (N11, 1800, 50_000)
    scout = books.user("scout")
    first_recruit, second_recruit = books.user("buyer", recruiter=scout), books.user("buyer", recruiter=scout)
    old_seller, new_seller = payee(books, "seller"), payee(books, "seller")
    before = books.paid_order(first_recruit, old_seller, 100_000, ist(N10))  # Rs 1,000 the day before
    after = books.paid_order(second_recruit, new_seller, 50_000, ist(N11))  # Rs 500 on the version's first day

    assert books.settle(N10).success
    # Version 1: platform 10% of 100_000 = 10_000, gateway 1.5% = 1_500, net 88_500. Hold 2 days: not settled.
    assert _capture(books, before) == (N10, 10_000, 1_500, 88_500, 1)
    assert books.rows("SELECT order_id FROM settlements") == []

    assert books.settle(N11).success
    # Version 2: platform 12% of 50_000 = 6_000, gateway 2% = 1_000, net 50_000 - 7_000 = 43_000.
    assert _capture(books, after) == (N11, 6_000, 1_000, 43_000, v2.fee_schedule_id)
    # Hold 0 days under version 2: paid at 10:00, settled the same night. The order paid the day before
    # keeps its 2 days (eligible N12 10:00), although version 2 is in effect now.
    assert [tuple(r) for r in books.rows("SELECT order_id, settlement_date FROM settlements")] == [(after, N11)]
    # The second recruit's first order settled: the bounty of the schedule it was paid under, Rs 25.
    assert [tuple(r) for r in books.rows("SELECT recruit_id, amount_paise, earned_date FROM bounties")] == [
        (second_recruit, 2_500, N11)
    ]
    # Minimum payout of the batch day's schedule: 43_000 < 50_000 (it would reach version 1's 10_000).
    assert payouts(books) == []

    assert books.settle(N12).success
    assert [tuple(r) for r in books.rows("SELECT order_id, settlement_date FROM settlements ORDER BY 2")] == [
        (after, N11),
        (before, N12),
    ]
    # Earned on N12, under version 2, but the order was paid under version 1: Rs 10.
    bounties = books.rows("SELECT recruit_id, amount_paise, earned_date, fee_schedule_id FROM bounties ORDER BY 3")
    assert [tuple(r) for r in bounties] == [
        (second_recruit, 2_500, N11, v2.fee_schedule_id),
        (first_recruit, 1_000, N12, 1),
    ]
    # 88_500 >= 50_000: the old seller is paid; the new seller's 43_000 still waits for the minimum.
    assert [(p.payee_id, p.amount_paise, p.batch_date) for p in payouts(books)] == [(old_seller, 88_500, N12)]
    with books.engine.connect() as conn:
        assert [payout_store.min_payout_paise(conn, day) for day in (N10, N11, N12)] == [10_000, 50_000, 50_000]
    revenue = books.rows("SELECT day, platform_fee_paise, gateway_fee_paise, bounty_expense_paise "
                         "FROM analytics.daily_revenue ORDER BY day")  # fmt: skip
    assert [tuple(r) for r in revenue] == [(N10, 10_000, 1_500, 0), (N11, 6_000, 1_000, 2_500), (N12, 0, 0, 1_000)]
    assert books.balances()["platform_revenue"] == -(10_000 + 6_000)
    assert books.balances()[f"scout_payable:{scout}"] == -(2_500 + 1_000)
    assert_books_sound(books)


def test_refunds_reverse_the_fee_of_the_schedule_the_order_was_paid_under(books: Books) -> None:
    v2 = fee_version_added_on(books, N11 - dt.timedelta(days=3), N11, **V2)
    buyer, old_seller, new_seller = books.user("buyer"), payee(books, "seller"), payee(books, "seller")
    captured = books.paid_order(buyer, old_seller, 100_000, ist(N10))
    uncaptured = books.paid_order(buyer, new_seller, 50_000, ist(N11, 9))
    assert books.settle(N10).success

    requests = ((captured, 50_000), (uncaptured, 25_000))
    halves = [refunds.request(books, order, amount, ist(N11, 12)) for order, amount in requests]
    assert refunds.refund_now(books, ist(N11, 12))["submitted"] == 2
    rows = books.rows("SELECT order_id, refund_paise, platform_fee_reversed_paise, seller_debit_paise "
                      "FROM order_refunds WHERE refund_id IN :ids ORDER BY refund_paise DESC",
                      ids=tuple(r.refund_id for r in halves))  # fmt: skip
    assert [tuple(r) for r in rows] == [
        # Captured under version 1 with a 10_000 fee: half refunded reverses 10_000 x 50_000 / 100_000 =
        # 5_000 (12% would make it 6_000); the seller gives back 45_000.
        (captured, 50_000, 5_000, 45_000),
        # Not captured yet, paid under version 2: the capture's fee is 12% of 50_000 = 6_000, and half of
        # it is reversed: 6_000 x 25_000 / 50_000 = 3_000 (version 1 would make it 2_500).
        (uncaptured, 25_000, 3_000, 22_000),
    ]
    assert books.settle(N11).success
    assert _capture(books, uncaptured) == (N11, 6_000, 1_000, 43_000, v2.fee_schedule_id)
    assert_books_sound(books)


def _run_add(books: Books, **config: object) -> Any:
    return defs.resolve_job_def("add_fee_schedule").execute_in_process(
        run_config={"ops": {"add_fee_schedule_op": {"config": config}}}, instance=books.instance, raise_on_error=False
    )


def test_the_add_fee_schedule_job(books: Books) -> None:
    today = books.one("SELECT (now() AT TIME ZONE 'Asia/Kolkata')::date AS today").today
    later = today + dt.timedelta(days=30)
    result = _run_add(books, effective_from=later.isoformat(), platform_fee_bps=1300, hold_days=3)
    assert result.success
    added = result.output_for_node("add_fee_schedule_op")
    # Carried over from version 1 (the defaults): all but the two values given.
    assert added == {
        "fee_schedule_id": 2,
        "effective_from": later.isoformat(),
        "platform_fee_bps": 1300,
        "gateway_fee_bps": 150,
        "gateway_gst_bps": 1800,
        "scout_bounty_paise": 1000,
        "min_payout_paise": 10_000,
        "hold_days": 3,
    }
    audit = books.one("SELECT actor, action, target_id, before, after FROM audit_log WHERE action LIKE 'fee%'")
    assert (audit.actor, audit.action, audit.target_id, audit.before) == ("finance", "fee_schedule.add", "2", None)
    assert audit.after["platform_fee_bps"] == 1300

    for config, refusal in [
        ({"effective_from": later.isoformat(), "platform_fee_bps": 1400}, "fee_schedule_exists"),
        ({"effective_from": today.isoformat(), "platform_fee_bps": 1400}, "fee_schedule_not_future"),
        # 9_900 + 150 (the gateway fee carried over) = 10_050 bps: more than the gross.
        ({"effective_from": later.isoformat(), "platform_fee_bps": 9900, "replace": True}, "fee_schedule_invalid"),
        ({"effective_from": "soon"}, "not an ISO date"),
    ]:
        refused = _run_add(books, **config)
        assert not refused.success
        [failure] = [e for e in refused.all_events if e.is_step_failure]
        assert refusal in failure.step_failure_data.error.message
    assert books.one("SELECT count(*) AS n FROM fee_schedules").n == 2  # the refusals changed nothing
    replaced = _run_add(books, effective_from=later.isoformat(), platform_fee_bps=1400, replace=True)
    assert replaced.output_for_node("add_fee_schedule_op")["platform_fee_bps"] == 1400
    # The replacement carries over from the version it replaces (hold 3 days), not from version 1.
    rows = books.rows(
        "SELECT fee_schedule_id, effective_from, platform_fee_bps, hold_days FROM fee_schedules ORDER BY 2"
    )
    assert [tuple(r) for r in rows] == [(1, dt.date(2000, 1, 1), 1000, 2), (3, later, 1400, 3)]
