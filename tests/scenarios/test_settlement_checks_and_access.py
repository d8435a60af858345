"""Blocking checks stop the night's money movement; analysts read analytics and nothing else;
the SQL fee function is the Python one."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.money import bps_of
from pipelines.definitions import defs
from tests.scenarios.books import Books, ist

D = dt.date(2026, 11, 12)
BLOCKING_CHECKS = (
    "day_orders_expectations",
    "captures_expectations",
    "settlement_report_expectations",
    "entries_balance",
    "entries_have_lines",
    "accounts_well_named",
    "close_matches_its_lines",
    "ledger_sums_to_zero",
    "captures_name_their_entries",
    "capture_entries_equal_their_captures",
    "day_clearing_equals_day_captures",
    "settlements_have_captures_groups_and_items",
    "bounties_posted_and_owed",
    "completed_refunds_in_the_subledger",
    "refund_entries_equal_their_rows",
    "refunds_within_their_orders",
    "clawbacks_owed_by_their_sellers",
    "stray_payments_posted_and_refunded",
    "payouts_in_transit_equals_in_flight_payouts",
    "payout_items_add_up",
    "items_covered_by_their_live_payout_items",
)


def test_a_failing_orders_check_stops_captures_and_is_recorded(books: Books, monkeypatch: pytest.MonkeyPatch) -> None:
    buyer, seller = books.user("buyer"), books.user("seller")
    books.paid_order(buyer, seller, 10_000, ist(D, 9), delivered_at=ist(D, 10))
    books.paid_order(buyer, seller, 60_000, ist(D, 9), delivered_at=ist(D, 10))
    monkeypatch.setenv("ORDER_MAX_PAISE", "50000")  # finance lowered the bound: the Rs 600 order is out

    result = books.settle(D)
    assert not result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"day_orders_expectations": False, "settlement_report_expectations": True}
    materialized = {m.asset_key.to_user_string() for m in result.get_asset_materialization_events()}
    assert materialized == {"day_orders", "settlement_report"}  # nothing downstream of the failed check ran
    assert books.balances() == {}
    assert books.rows("SELECT * FROM settlement_lines") == []
    stored = books.one(
        "SELECT asset_key, check_name, passed, partition_key, details FROM check_results WHERE asset_key = 'day_orders'"
    )
    assert (stored.asset_key, stored.check_name, stored.passed, stored.partition_key) == (
        "day_orders",
        "day_orders_expectations",
        False,
        D.isoformat(),
    )
    failed = [e for e in stored.details["expectations"] if not e["success"]]
    assert [(e["expectation"], e["unexpected_count"]) for e in failed] == [("expect_column_values_to_be_between", 1)]

    monkeypatch.setenv("ORDER_MAX_PAISE", "100000000")
    assert books.settle(D).success
    assert len(books.rows("SELECT * FROM settlement_lines")) == 2


def test_every_check_passes_and_is_stored_on_a_good_day(books: Books) -> None:
    books.paid_order(books.user("buyer"), books.user("seller"), 25_000, ist(D, 9), delivered_at=ist(D, 10))
    result = books.settle(D)
    assert result.success
    evaluations = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert evaluations == dict.fromkeys(BLOCKING_CHECKS, True)
    assert books.one("SELECT count(*) AS n FROM check_results WHERE passed").n == len(BLOCKING_CHECKS) == 21


def test_analyst_reads_analytics_and_nothing_else(books: Books) -> None:
    books.paid_order(books.user("buyer"), books.user("seller"), 25_000, ist(D, 9), delivered_at=ist(D, 10))
    assert books.settle(D).success
    with books.engine.connect() as conn:
        conn.execute(sa.text("SET ROLE analyst"))
        assert conn.execute(
            sa.text("SELECT gmv_paise FROM analytics.daily_revenue WHERE day = :d"), {"d": D}
        ).one() == (25_000,)
        for forbidden in (
            "SELECT * FROM ledger_lines",
            "SELECT * FROM orders",
            "INSERT INTO analytics.daily_revenue (day, orders_paid, gmv_paise, platform_fee_paise, gateway_fee_paise, "
            "refunds_paise, refunded_platform_fee_paise, bounty_expense_paise, net_revenue_paise) "
            "VALUES ('2000-01-01', 0, 0, 0, 0, 0, 0, 0, 0)",
            "DELETE FROM analytics.daily_revenue",
            "CREATE TABLE analytics.mine (x int)",
        ):
            savepoint = conn.begin_nested()
            with pytest.raises(sa.exc.ProgrammingError, match="permission denied"):
                conn.execute(sa.text(forbidden))
            savepoint.rollback()


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 10**13), st.integers(0, 10_000)), min_size=1, max_size=50))
def test_sql_fee_function_is_the_python_one(engine: sa.Engine, pairs: list[tuple[int, int]]) -> None:
    with engine.connect() as conn:
        got = (
            conn.execute(
                sa.text("SELECT bps_of(a, b) FROM unnest(CAST(:a AS bigint[]), CAST(:b AS int[])) AS t(a, b)"),
                {"a": [a for a, _ in pairs], "b": [b for _, b in pairs]},
            )
            .scalars()
            .all()
        )
    assert got == [bps_of(a, b) for a, b in pairs]


def test_nightly_schedule_runs_at_two_ist_for_the_previous_day() -> None:
    schedule = defs.resolve_schedule_def("nightly_settlement_0200_ist")
    assert (schedule.cron_schedule, schedule.execution_timezone) == ("0 2 * * *", "Asia/Kolkata")
    context = dg.build_schedule_context(
        repository_def=defs.get_repository_def(),
        scheduled_execution_time=dt.datetime(2026, 11, 13, 2, 0, tzinfo=dt.timezone(dt.timedelta(hours=5.5))),
    )
    requests = list(schedule.evaluate_tick(context).run_requests or [])
    assert [r.partition_key for r in requests] == ["2026-11-12"]
