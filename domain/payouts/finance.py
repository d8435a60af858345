"""Finance's bulk payout actions: each payout in its own transaction, a refusal reported, not raised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from domain.payouts import store as payout_store
from domain.platform.bulk import each_in_own_transaction


def retry_payouts(engine: sa.Engine, payout_ids: Sequence[str], actor: str, today: dt.date) -> dict[str, str]:
    """Finance: retry each given payout; the answer per payout is the payout to attempt or the refusal."""
    return each_in_own_transaction(
        engine, payout_ids, lambda conn, pid: payout_store.retry_payout(conn, pid, actor, today)
    )


def cancel_payouts(engine: sa.Engine, payout_ids: Sequence[str], actor: str, reason: str) -> dict[str, str]:
    return each_in_own_transaction(
        engine, payout_ids, lambda conn, pid: payout_store.cancel_payout(conn, pid, actor, reason)
    )
