"""Payout invariants: money in transit, payout items and payable balances agree with each other."""

from __future__ import annotations

from domain.platform.invariants import Invariant

PAYOUT_INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "payouts_in_transit_equals_in_flight_payouts",
        "Money in transit is exactly the sum of pending and processing payouts.",
        """SELECT t.in_transit_paise, f.in_flight_paise
           FROM (SELECT coalesce(-sum(amount_paise), 0) AS in_transit_paise FROM ledger_lines
                 WHERE account_id = 'payouts_in_transit') t,
                (SELECT coalesce(sum(amount_paise), 0) AS in_flight_paise FROM payouts
                 WHERE status IN ('pending', 'processing')) f
           WHERE t.in_transit_paise <> f.in_flight_paise""",
    ),
    Invariant(
        "payout_items_add_up",
        "The live items of a payout whose money has not come back add up to its amount; a returned one has none.",
        """SELECT p.payout_id, p.status, p.amount_paise, coalesce(sum(i.amount_paise), 0) AS items_paise
           FROM payouts p LEFT JOIN payout_items i ON i.payout_id = p.payout_id AND i.released_at IS NULL
           GROUP BY p.payout_id
           HAVING coalesce(sum(i.amount_paise), 0)
                  <> CASE WHEN p.status IN ('failed', 'cancelled', 'reversed') THEN 0 ELSE p.amount_paise END
           LIMIT 100""",
    ),
    Invariant(
        "no_entry_paid_twice",
        "Live payout items never cover more of a ledger entry than the entry gave the payee.",
        """SELECT entry_id, payee_id, amount_paise, covered_paise FROM payee_items
           WHERE (amount_paise > 0 AND (covered_paise < 0 OR covered_paise > amount_paise))
              OR (amount_paise < 0 AND (covered_paise > 0 OR covered_paise < amount_paise))
           LIMIT 100""",
    ),
    Invariant(
        "payables_equal_unpaid_items",
        "Every payee's payable balance equals the part of its earnings no live payout covers.",
        """SELECT a.account_id, -coalesce(b.balance_paise, 0) AS owed_paise, coalesce(u.unpaid_paise, 0) AS unpaid_paise
           FROM ledger_accounts a
           LEFT JOIN (SELECT account_id, sum(amount_paise) AS balance_paise FROM ledger_lines
                      GROUP BY account_id) b ON b.account_id = a.account_id
           LEFT JOIN (SELECT payee_type || '_payable:' || payee_id AS account_id,
                             sum(uncovered_paise) AS unpaid_paise
                      FROM payee_items GROUP BY 1) u ON u.account_id = a.account_id
           WHERE a.account_type IN ('seller_payable', 'scout_payable')
             AND -coalesce(b.balance_paise, 0) <> coalesce(u.unpaid_paise, 0)
           LIMIT 100""",
    ),
)
