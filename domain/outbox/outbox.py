"""The one outbox writer every feature calls in its own transaction (DESIGN.md section 9).

Python writers pass rows built by `domain.outbox.events`; set-based SQL writers stage rows in
`pending_outbox` (`prepare` first) and call `flush`, which checks each against the same catalogue.
A dedupe key already written is skipped, so every writer is idempotent. The caller owns the
transaction: an event commits with the change that caused it, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from domain.outbox.events import OutboxError, OutboxRow, catalogue_json
from domain.outbox.tables import notifications
from domain.platform.sql import statement


def write(conn: sa.Connection, rows: Iterable[OutboxRow]) -> int:
    """Insert outbox rows, skipping dedupe keys already written; return how many were new."""
    values = [
        {
            "dedupe_key": row.dedupe_key,
            "event_type": row.event_type,
            "user_id": row.user_id,
            "audience": row.audience,
            "payload": row.payload,
        }
        for row in rows
    ]
    if not values:
        return 0
    result = conn.execute(insert(notifications).values(values).on_conflict_do_nothing(index_elements=["dedupe_key"]))
    return int(result.rowcount)


def prepare(conn: sa.Connection) -> None:
    """Make sure this session has its `pending_outbox` staging table."""
    conn.execute(statement("outbox/stage"))


@cache
def _catalogue() -> str:
    return catalogue_json()


def flush(conn: sa.Connection) -> int:
    """Write what set-based SQL staged; refuse the whole transaction's rows if one is not an event."""
    written, refused, first = conn.execute(statement("outbox/write"), {"catalogue": _catalogue()}).one()
    if refused:
        raise OutboxError(f"{refused} staged outbox rows are not catalogue events in shape (first: {first})")
    return int(written)


def nonconforming(conn: sa.Connection) -> list[dict[str, object]]:
    """Stored rows that are not catalogue events in shape: none, unless a writer bypassed this module."""
    return [dict(row._mapping) for row in conn.execute(statement("outbox/nonconforming"), {"catalogue": _catalogue()})]
