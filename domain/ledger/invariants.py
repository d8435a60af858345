"""The general ledger's invariants, each a query returning the offending rows (none when it holds).

`LEDGER_INVARIANTS` look at the entries in (:from_entry_id, :through_entry_id]: a night's checks
pass the range of that night's close, the scheduled audit the range since its last audit, and
`WHOLE_LEDGER` is every entry. `CLOSE_INVARIANTS` hold one close (:close_id) to the lines it sums.
"""

from __future__ import annotations

from domain.platform.invariants import Invariant

WHOLE_LEDGER = {"from_entry_id": 0, "through_entry_id": 2**62}

LEDGER_INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "entries_balance",
        "The lines of every journal entry sum to zero.",
        """SELECT entry_id, sum(amount_paise) AS total_paise FROM ledger_lines
           WHERE entry_id > :from_entry_id AND entry_id <= :through_entry_id
           GROUP BY entry_id HAVING sum(amount_paise) <> 0 ORDER BY entry_id LIMIT 100""",
    ),
    Invariant(
        "entries_have_lines",
        "Every journal entry has at least two lines.",
        """SELECT e.entry_id, e.idempotency_key, count(l.line_id) AS lines FROM journal_entries e
           LEFT JOIN ledger_lines l ON l.entry_id = e.entry_id
           WHERE e.entry_id > :from_entry_id AND e.entry_id <= :through_entry_id
           GROUP BY e.entry_id HAVING count(l.line_id) < 2 ORDER BY e.entry_id LIMIT 100""",
    ),
    Invariant(
        "accounts_well_named",
        "An account id is its type, or its type and payee joined by ':'.",
        """SELECT DISTINCT a.account_id, a.account_type, a.payee_id FROM ledger_lines l
           JOIN ledger_accounts a ON a.account_id = l.account_id
           WHERE l.entry_id > :from_entry_id AND l.entry_id <= :through_entry_id
             AND a.account_id <> a.account_type || coalesce(':' || a.payee_id, '') LIMIT 100""",
    ),
)

CLOSE_INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "close_matches_its_lines",
        "Each account's movement at a close is the sum of its lines since the previous close, and its "
        "closing balance the previous one plus that movement.",
        """WITH this AS (SELECT close_id, through_entry_id FROM ledger_closes WHERE close_id = :close_id),
                before AS (SELECT coalesce(max(through_entry_id), 0) AS mark FROM ledger_closes
                           WHERE close_id < :close_id),
                lines AS (SELECT l.account_id, sum(l.amount_paise) AS movement_paise FROM ledger_lines l, this, before
                          WHERE l.entry_id > before.mark AND l.entry_id <= this.through_entry_id GROUP BY 1)
           SELECT coalesce(l.account_id, b.account_id) AS account_id, l.movement_paise AS lines_paise,
                  b.movement_paise AS closed_paise, b.balance_paise, p.balance_paise AS previous_paise
           FROM lines l
           FULL JOIN (SELECT * FROM closing_balances WHERE close_id = :close_id) b ON b.account_id = l.account_id
           LEFT JOIN LATERAL (SELECT balance_paise FROM closing_balances x
                              WHERE x.account_id = coalesce(l.account_id, b.account_id) AND x.close_id < :close_id
                              ORDER BY x.close_id DESC LIMIT 1) p ON true
           WHERE l.movement_paise IS DISTINCT FROM b.movement_paise
              OR b.balance_paise <> coalesce(p.balance_paise, 0) + b.movement_paise
           LIMIT 100""",
    ),
    Invariant(
        "ledger_sums_to_zero",
        "The whole ledger sums to zero at the close: its account-type totals add up to nothing.",
        """SELECT sum(balance_paise) AS total_paise FROM closing_totals WHERE close_id = :close_id
           HAVING coalesce(sum(balance_paise), 0) <> 0""",
    ),
)
