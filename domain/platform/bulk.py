"""Finance's bulk actions: one transaction per item, a refusal reported in the answer, not raised, so
one bad id in a list neither stops nor undoes the others."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa

from domain.platform.errors import DomainError


def each_in_own_transaction(
    engine: sa.Engine, ids: Sequence[str], action: Callable[[sa.Connection, str], str]
) -> dict[str, str]:
    """`action` for each id in its own transaction; per id, its answer or `refused: <code>: <message>`."""
    results: dict[str, str] = {}
    for item_id in ids:
        try:
            with engine.begin() as conn:
                results[item_id] = action(conn, item_id)
        except DomainError as exc:
            results[item_id] = f"refused: {exc.code}: {exc.message}"
    return results
