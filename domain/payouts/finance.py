"""Finance's bulk payout actions: each payout in its own transaction, a refusal reported, not raised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import sqlalchemy as sa

from domain.payouts import store as payout_store
from domain.payouts.rules import PayoutRuleError


def retry_payouts(engine: sa.Engine, payout_ids: Sequence[str], actor: str, today: dt.date) -> dict[str, str]:
    """Finance: retry each given payout; the answer per payout is the payout to attempt or the refusal."""
    return _each(engine, payout_ids, lambda conn, pid: payout_store.retry_payout(conn, pid, actor, today))


def cancel_payouts(engine: sa.Engine, payout_ids: Sequence[str], actor: str, reason: str) -> dict[str, str]:
    return _each(engine, payout_ids, lambda conn, pid: payout_store.cancel_payout(conn, pid, actor, reason))


def _each(engine: sa.Engine, payout_ids: Sequence[str], action: Callable[[sa.Connection, str], str]) -> dict[str, str]:
    results: dict[str, str] = {}
    for payout_id in payout_ids:
        try:
            with engine.begin() as conn:
                results[payout_id] = action(conn, payout_id)
        except PayoutRuleError as exc:
            results[payout_id] = f"refused: {exc.code}: {exc}"
    return results
