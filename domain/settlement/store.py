"""The nightly settlement steps, each one transaction of set-based SQL (`sql/settlement/`) whose
ledger entries and outbox rows go through the one posting path and the one outbox writer.

Every step is idempotent per day: the ledger keys, unique settlement lines and bounties per recruit,
and the outbox's dedupe keys make a re-run, a backfill or two concurrent runs post nothing twice.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from domain.ledger import posting
from domain.outbox import outbox
from domain.platform.clock import Day
from domain.platform.sql import statement


def _prepare(conn: sa.Connection) -> None:
    posting.prepare(conn)
    outbox.prepare(conn)


def post_captures(conn: sa.Connection, day: Day) -> dict[str, int]:
    """Capture entries for every confirmed payment up to the end of `day` not yet captured."""
    _prepare(conn)
    captured, gross = conn.execute(statement("settlement/captures"), day.params).one()
    posting.post_staged(conn)
    return {"captured": int(captured), "captured_gross_paise": int(gross)}


def record_settlement_lines(conn: sa.Connection, day: Day) -> dict[str, int]:
    """Settlement lines for the captured orders eligible by the end of `day`, with their outbox rows."""
    _prepare(conn)
    settled = conn.execute(statement("settlement/settlement_lines"), day.params).scalar_one()
    outbox.flush(conn)
    lines, gross, net = conn.execute(statement("settlement/day_lines"), day.params).one()
    return {
        "settled_now": int(settled),
        "lines_for_day": int(lines),
        "gross_paise": int(gross),
        "seller_net_paise": int(net),
    }


def earn_bounties(conn: sa.Connection, day: Day) -> dict[str, int]:
    """Bounties for recruits whose first order settled on `day`, posted and notified."""
    _prepare(conn)
    earned, amount = conn.execute(statement("settlement/bounties"), day.params).one()
    posting.post_staged(conn)
    outbox.flush(conn)
    return {"bounties_earned": int(earned), "bounty_paise": int(amount)}


def held_payments(conn: sa.Connection, day: Day) -> list[dict[str, Any]]:
    """Paid orders up to the end of `day` that are not confirmed, with the gateway's last answer."""
    return [dict(row._mapping) for row in conn.execute(statement("settlement/held_payments"), day.params)]


def trial_balance(conn: sa.Connection) -> dict[str, int]:
    """Balance per account type."""
    return {kind: int(total) for kind, total in conn.execute(statement("ledger/trial_balance"))}
