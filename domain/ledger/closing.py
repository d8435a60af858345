"""Closing the ledger: the balance of every account at a mark, so that reading a balance is its
latest closing plus the lines since, and a night's checks read the night's lines, not the history.

A close is taken through a *mark*, the highest entry id below which every posting has committed.
Posting transactions hold the close lock shared (`sql/ledger/stage.sql`); the close takes it
exclusively for a moment, without queueing (a queued exclusive request would make new postings wait
behind it), reads the highest entry id, and releases it. Entry ids drawn later are above the mark.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.ledger.tables import ledger_closes
from domain.platform.clock import Day
from domain.platform.sql import statement

CLOSE_LOCK = sa.func.hashtext("ledger_close")
CLOSE_WRITE_LOCK = sa.func.hashtext("ledger_close_write")
TRY_FOR_S = 10.0


@dataclass(frozen=True, slots=True)
class Close:
    close_id: int
    close_date: Any
    through_entry_id: int
    accounts_moved: int
    trial_balance: dict[str, dict[str, int]]


def _mark(engine: sa.Engine) -> int:
    with engine.begin() as conn:
        deadline = time.monotonic() + TRY_FOR_S
        while not conn.execute(sa.select(sa.func.pg_try_advisory_xact_lock(CLOSE_LOCK))).scalar_one():
            if time.monotonic() > deadline:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(CLOSE_LOCK)))
                break
            time.sleep(0.02)
        return int(conn.execute(statement("ledger/high_water_mark")).scalar_one())


def close_ledger(engine: sa.Engine, day: Day) -> Close:
    """Close through everything committed now; with nothing new since the last close, that close."""
    mark = _mark(engine)
    with engine.begin() as conn:
        conn.execute(sa.select(sa.func.pg_advisory_xact_lock(CLOSE_WRITE_LOCK)))
        last = latest(conn)
        if last is not None and last.through_entry_id >= mark:
            return last
        row = conn.execute(statement("ledger/close"), {"day": day.date, "mark": mark}).one()
        return Close(int(row.close_id), day.date, mark, int(row.accounts_moved), _totals(row.trial_balance))


def latest(conn: sa.Connection) -> Close | None:
    row = conn.execute(statement("ledger/last_close")).first()
    if row is None:
        return None
    return Close(int(row.close_id), row.close_date, int(row.through_entry_id), 0, _totals(row.trial_balance))


def _totals(value: Any) -> dict[str, dict[str, int]]:
    raw = json.loads(value) if isinstance(value, str) else value
    return {kind: {k: int(v) for k, v in figures.items()} for kind, figures in sorted(raw.items())}


def previous_mark(conn: sa.Connection, close_id: int) -> int:
    """The mark of the close before `close_id` (0 for the first): where that close's range starts."""
    value = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(ledger_closes.c.through_entry_id), 0)).where(
            ledger_closes.c.close_id < close_id
        )
    ).scalar_one()
    return int(value)
