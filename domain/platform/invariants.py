"""Invariants declared once as SQL that returns the offending rows.

Tests run every invariant after every scenario; Dagster asset checks run them on the live data and
attach the offending rows as metadata. An invariant holds when its query returns no row.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True, slots=True)
class Invariant:
    name: str
    description: str
    sql: str


def violations(
    conn: sa.Connection, invariant: Invariant, params: Mapping[str, object] | None = None
) -> list[dict[str, object]]:
    return [dict(row._mapping) for row in conn.execute(sa.text(invariant.sql), dict(params or {}))]


def check_all(
    conn: sa.Connection, invariants: tuple[Invariant, ...], params: Mapping[str, object] | None = None
) -> dict[str, list[dict[str, object]]]:
    """Only the broken invariants, each with its offending rows."""
    broken = {}
    for invariant in invariants:
        rows = violations(conn, invariant, params)
        if rows:
            broken[invariant.name] = rows
    return broken
