"""The nightly settlement steps, each one transaction of set-based SQL (`sql/settlement/`) whose
ledger entries and outbox rows go through the one posting path and the one outbox writer.

Every step is idempotent per day and safe under concurrent runs: runs of one step for one day are
serialised by a transaction-level advisory lock and only write what no earlier run wrote (a capture,
a settlement, a bounty per recruit), so a re-run, a backfill or two runs at once post nothing twice.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from domain.ledger import posting
from domain.ledger.accounts import LedgerError
from domain.outbox import outbox
from domain.platform.clock import Day
from domain.platform.sql import statement


def _lock_day(conn: sa.Connection, step: str, day: Day) -> None:
    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(step), day.date.toordinal())))


def post_captures(conn: sa.Connection, day: Day) -> dict[str, int]:
    """Capture rows and one entry per seller for the payments confirmed since `day` began."""
    _lock_day(conn, "captures", day)
    posting.prepare(conn)
    captured, gross, entries = conn.execute(statement("settlement/captures"), day.params).one()
    repeated = sorted(key for key, posted in posting.post_staged(conn).items() if not posted.created)
    if repeated:
        raise LedgerError(f"capture entries already posted under these keys: {repeated[:5]}")
    return {"captured": int(captured), "captured_gross_paise": int(gross), "capture_entries": int(entries)}


def record_settlements(conn: sa.Connection, day: Day) -> dict[str, int]:
    """Settlement rows for the captured orders eligible by the end of `day`, one payee item per seller."""
    _lock_day(conn, "settlements", day)
    settled, items = conn.execute(statement("settlement/settlements"), day.params).one()
    return {"settled_now": int(settled), "payee_items": int(items)}


def earn_bounties(conn: sa.Connection, day: Day) -> dict[str, int]:
    """Bounties for recruits whose first order settled on `day`, posted, owed and notified."""
    posting.prepare(conn)
    outbox.prepare(conn)
    earned, amount = conn.execute(statement("settlement/bounties"), day.params).one()
    posting.post_staged(conn)
    outbox.flush(conn)
    return {"bounties_earned": int(earned), "bounty_paise": int(amount)}


def write_statements(conn: sa.Connection, day: Day) -> int:
    """One settlement statement per seller-day in the outbox, naming the payout the day's net went into."""
    outbox.prepare(conn)
    conn.execute(statement("settlement/statements"), day.params)
    return outbox.flush(conn)


def day_orders(conn: sa.Connection, day: Day) -> dict[str, int]:
    """How many orders the day created and how many it saw paid."""
    row = conn.execute(statement("settlement/day_orders"), day.params).one()
    return {"orders_created": int(row.created), "orders_paid": int(row.paid)}


def day_totals(conn: sa.Connection, day: Day) -> dict[str, int]:
    """What the day captured and settled, in total."""
    row = conn.execute(statement("settlement/day_totals"), day.params).one()
    return {name: int(value) for name, value in row._mapping.items()}


def held_payments(conn: sa.Connection, day: Day) -> list[dict[str, Any]]:
    """Paid orders up to the end of `day` that are not confirmed, with the gateway's last answer."""
    return [dict(row._mapping) for row in conn.execute(statement("settlement/held_payments"), day.params)]
