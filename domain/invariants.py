"""Invariants of the books, declared once as SQL that returns the offending rows.

Tests run every invariant after every scenario; Dagster asset checks run them on the live data and
attach the offending rows as metadata. An invariant holds when its query returns no row.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa


@dataclass(frozen=True, slots=True)
class Invariant:
    name: str
    description: str
    sql: str


LEDGER_INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "entries_balance",
        "The lines of every journal entry sum to zero.",
        """SELECT entry_id, sum(amount_paise) AS total_paise FROM ledger_lines
           GROUP BY entry_id HAVING sum(amount_paise) <> 0 ORDER BY entry_id LIMIT 100""",
    ),
    Invariant(
        "ledger_sums_to_zero",
        "The whole ledger sums to zero.",
        """SELECT sum(amount_paise) AS total_paise FROM ledger_lines
           HAVING coalesce(sum(amount_paise), 0) <> 0""",
    ),
    Invariant(
        "entries_have_lines",
        "Every journal entry has at least two lines.",
        """SELECT e.entry_id, e.idempotency_key, count(l.line_id) AS lines FROM journal_entries e
           LEFT JOIN ledger_lines l ON l.entry_id = e.entry_id
           GROUP BY e.entry_id HAVING count(l.line_id) < 2 ORDER BY e.entry_id LIMIT 100""",
    ),
    Invariant(
        "accounts_well_named",
        "An account id is its type, or its type and payee joined by ':'.",
        """SELECT account_id, account_type, payee_id FROM ledger_accounts
           WHERE account_id <> account_type || coalesce(':' || payee_id, '') LIMIT 100""",
    ),
)


def violations(conn: sa.Connection, invariant: Invariant) -> list[dict[str, object]]:
    return [dict(row._mapping) for row in conn.execute(sa.text(invariant.sql))]


def check_all(conn: sa.Connection, invariants: tuple[Invariant, ...]) -> dict[str, list[dict[str, object]]]:
    """Only the broken invariants, each with its offending rows."""
    broken = {}
    for invariant in invariants:
        rows = violations(conn, invariant)
        if rows:
            broken[invariant.name] = rows
    return broken
