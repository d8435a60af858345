"""Every inbound webhook attempt, accepted or not, as a `webhook_events` row.

Deduplication is the partial unique index on (source, event_key) over accepted and anomalous rows:
`claim` inserts an accepted row or, when that event was already accepted (also by a concurrent
request, which it waits for), inserts nothing and returns None. Duplicates and rejections are then
stored as their own rows, so the table is the complete delivery history.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from domain.webhooks.tables import webhook_events


def record(conn: sa.Connection, **values: Any) -> int:
    """Store an attempt that needs no dedupe (rejected, duplicate); return its id."""
    return int(
        conn.execute(
            sa.insert(webhook_events).values(**values).returning(webhook_events.c.webhook_event_id)
        ).scalar_one()
    )


def claim(conn: sa.Connection, **values: Any) -> int | None:
    """Store an accepted attempt unless its event key was already accepted; return its id or None."""
    statement = (
        insert(webhook_events)
        .values(verdict="accepted", **values)
        .on_conflict_do_nothing(
            index_elements=["source", "event_key"],
            index_where=webhook_events.c.verdict.in_(("accepted", "anomaly")),
        )
        .returning(webhook_events.c.webhook_event_id)
    )
    event_id = conn.execute(statement).scalar()
    return None if event_id is None else int(event_id)


def record_outcome(conn: sa.Connection, webhook_event_id: int, verdict: str, reason: str, *, processed: bool) -> None:
    """Record the outcome of applying a claimed event."""
    values: dict[str, Any] = {"verdict": verdict, "reason": reason}
    if processed:
        values["processed_at"] = sa.func.now()
    conn.execute(sa.update(webhook_events).where(webhook_events.c.webhook_event_id == webhook_event_id).values(values))
