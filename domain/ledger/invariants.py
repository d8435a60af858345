"""The general ledger's invariants, each a query returning the offending rows (none when it holds)."""

from __future__ import annotations

from domain.platform.invariants import Invariant

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
