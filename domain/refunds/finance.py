"""Finance's bulk refund decisions: each refund in its own transaction, a refusal reported, not raised."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa

from domain.platform.bulk import each_in_own_transaction
from domain.refunds import store


def approve_refunds(
    engine: sa.Engine, refund_ids: Sequence[str], actor: str, note: str | None, now: dt.datetime
) -> dict[str, str]:
    def approve(conn: sa.Connection, refund_id: str) -> str:
        return str(store.decide(conn, refund_id, approve=True, actor=actor, note=note, now=now).status)

    return each_in_own_transaction(engine, refund_ids, approve)


def reject_refunds(
    engine: sa.Engine, refund_ids: Sequence[str], actor: str, note: str, now: dt.datetime
) -> dict[str, str]:
    def reject(conn: sa.Connection, refund_id: str) -> str:
        return str(store.decide(conn, refund_id, approve=False, actor=actor, note=note, now=now).status)

    return each_in_own_transaction(engine, refund_ids, reject)


def retry_refunds(engine: sa.Engine, refund_ids: Sequence[str], actor: str, now: dt.datetime) -> dict[str, str]:
    """Per failed refund, the id of the new refund that refunds its amount again (or the refusal)."""

    def retry(conn: sa.Connection, refund_id: str) -> str:
        return str(store.retry(conn, refund_id, actor=actor, now=now).refund_id)

    return each_in_own_transaction(engine, refund_ids, retry)
