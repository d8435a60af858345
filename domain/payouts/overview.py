"""One batch day's payouts as finance follows them up: how many in each status, and the largest that
failed with the gateway's reason. Both read the day's payouts through their (batch_date, status)
index: one row per payee at most, never the orders behind them."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from domain.payouts.tables import PAYOUT_STATUSES
from domain.platform.sql import statement


def by_status(conn: sa.Connection, day: dt.date) -> dict[str, tuple[int, int]]:
    """Every payout status, with (payouts, paise) of the batch day; (0, 0) for a status it has none in."""
    rows = conn.execute(statement("payouts/day_by_status"), {"day": day})
    found = {row.status: (int(row.payouts), int(row.amount_paise)) for row in rows}
    return {status: found.get(status, (0, 0)) for status in PAYOUT_STATUSES}


def failed(conn: sa.Connection, day: dt.date, limit: int) -> list[dict[str, Any]]:
    """The batch day's largest failed payouts, at most `limit`."""
    rows = conn.execute(statement("payouts/failed_of_day"), {"day": day, "limit": limit})
    return [dict(row._mapping) for row in rows]
