"""The one writer of `audit_log`: who did what to which record, before and after, in the caller's
transaction (so the change and its audit row commit together)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from domain.platform.tables import audit_log


def audit(
    conn: sa.Connection,
    actor: str,
    action: str,
    target_type: str,
    target_id: str,
    before: Mapping[str, Any] | None,
    after: Mapping[str, Any] | None,
    request_id: str | None = None,
) -> None:
    conn.execute(
        sa.insert(audit_log).values(
            actor=actor,
            action=action,
            target_type=target_type,
            target_id=target_id,
            before=jsonable(before),
            after=jsonable(after),
            request_id=request_id,
        )
    )


def jsonable(values: Mapping[str, Any] | None) -> Any:
    """A mapping as JSON can store it: whole decimals (PostgreSQL's sums of paise) as numbers, dates
    and anything else as text."""
    return None if values is None else json.loads(json.dumps(dict(values), default=_plain))


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return str(value)
