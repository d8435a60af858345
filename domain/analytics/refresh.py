"""Rebuilding the analysts' tables: a daily table is rebuilt for one IST day (delete the day, insert
it again, `sql/analytics/<table>.sql`) in the caller's transaction, so re-runs and backfills converge
on the same rows; the scout leaderboard is small and rebuilt whole. Two runs of one day at once (a
schedule and a backfill) take turns under a transaction-level advisory lock per table and day: without
it both deleted nothing and the second insert failed on the day's key."""

from __future__ import annotations

import sqlalchemy as sa

from domain.analytics import tables
from domain.platform.clock import Day
from domain.platform.sql import statement

DAILY_TABLES: dict[str, sa.Table] = {
    table.name: table
    for table in (
        tables.daily_revenue,
        tables.seller_earnings_daily,
        tables.payment_success_daily,
        tables.order_completion_daily,
        tables.payout_health_daily,
        tables.refunds_daily,
    )
}


def refresh_day(conn: sa.Connection, name: str, day: Day) -> int:
    """Rebuild one daily table's rows for `day`; how many rows it now has for that day."""
    table = DAILY_TABLES[name]
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(f"analytics:{name}"), day.date.toordinal())))
    conn.execute(sa.delete(table).where(table.c.day == day.date))
    return int(conn.execute(statement(f"analytics/{name}"), day.params).rowcount)


def refresh_leaderboard(conn: sa.Connection) -> int:
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext("analytics:scout_leaderboard"))))
    conn.execute(sa.delete(tables.scout_leaderboard))
    return int(conn.execute(statement("analytics/scout_leaderboard")).rowcount)
