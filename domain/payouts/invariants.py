"""Payout invariants, each a query returning the offending rows (none when it holds).

`PAYOUT_INVARIANTS` are a batch day's (:day): they read that day's payouts and the items they cover,
and the money in transit through the ledger's last close. `PAYABLE_INVARIANTS` hold a payee's ledger
balance to what it is owed (its open payee items, and what it captured but has not settled yet); they
read the whole history of every payee whose account moved in an entry range, so the scheduled ledger
audit runs them, not the night. A payee's history is small: a line per seller-day, not per order.
"""

from __future__ import annotations

from domain.platform.invariants import Invariant

PAYOUT_INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "payouts_in_transit_equals_in_flight_payouts",
        "Money in transit is exactly the sum of pending and processing payouts.",
        """WITH last_close AS (SELECT coalesce(max(through_entry_id), 0) AS mark FROM ledger_closes)
           SELECT t.in_transit_paise, f.in_flight_paise
           FROM (SELECT -(coalesce((SELECT b.balance_paise FROM closing_balances b
                                    WHERE b.account_id = 'payouts_in_transit' ORDER BY b.close_id DESC LIMIT 1), 0)
                          + coalesce((SELECT sum(l.amount_paise) FROM ledger_lines l, last_close
                                      WHERE l.account_id = 'payouts_in_transit' AND l.entry_id > last_close.mark), 0))
                        AS in_transit_paise) t,
                (SELECT coalesce(sum(amount_paise), 0) AS in_flight_paise FROM payouts
                 WHERE status IN ('pending', 'processing')) f
           WHERE t.in_transit_paise <> f.in_flight_paise""",
    ),
    Invariant(
        "payout_items_add_up",
        "The live items of a payout whose money has not come back add up to its amount; a returned one has none.",
        """SELECT p.payout_id, p.status, p.amount_paise, coalesce(sum(i.amount_paise), 0) AS items_paise
           FROM payouts p LEFT JOIN payout_items i ON i.payout_id = p.payout_id AND i.released_at IS NULL
           WHERE p.batch_date = :day
           GROUP BY p.payout_id
           HAVING coalesce(sum(i.amount_paise), 0)
                  <> CASE WHEN p.status IN ('failed', 'cancelled', 'reversed') THEN 0 ELSE p.amount_paise END
           LIMIT 100""",
    ),
    Invariant(
        "items_covered_by_their_live_payout_items",
        "What a payee item says live payouts cover is what its live payout items add up to, never more than "
        "the item is worth (the table's own check), for every item the day's payouts touch.",
        """SELECT i.payee_item_id, i.item_key, i.covered_paise, coalesce(sum(pi.amount_paise), 0) AS live_paise
           FROM payee_items i
           LEFT JOIN payout_items pi ON pi.payee_item_id = i.payee_item_id AND pi.released_at IS NULL
           WHERE i.payee_item_id IN (SELECT x.payee_item_id FROM payout_items x
                                     JOIN payouts p ON p.payout_id = x.payout_id WHERE p.batch_date = :day)
           GROUP BY i.payee_item_id
           HAVING i.covered_paise <> coalesce(sum(pi.amount_paise), 0)
           LIMIT 100""",
    ),
)

PAYABLE_INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "payables_equal_owed_items_and_held_captures",
        "Every payee's payable balance equals its payee items no live payout covers plus what it has captured "
        "but not yet settled, for every payee account with lines in (:from_entry_id, :through_entry_id].",
        """WITH touched AS (
               SELECT DISTINCT l.account_id, a.payee_id FROM ledger_lines l
               JOIN ledger_accounts a ON a.account_id = l.account_id
               WHERE l.entry_id > :from_entry_id AND l.entry_id <= :through_entry_id
                 AND a.account_type IN ('seller_payable', 'scout_payable')
           ),
           ledger AS (
               SELECT t.account_id, -sum(l.amount_paise) AS owed_paise,
                      -coalesce(sum(l.amount_paise) FILTER (WHERE j.entry_type = 'payment_captured'), 0)
                          AS captured_paise
               FROM touched t
               JOIN ledger_lines l ON l.account_id = t.account_id
               JOIN journal_entries j ON j.entry_id = l.entry_id
               GROUP BY t.account_id
           ),
           settled AS (
               SELECT payable_account('seller', g.seller_id) AS account_id, sum(g.net_paise) AS settled_paise
               FROM settlement_groups g WHERE g.seller_id IN (SELECT payee_id FROM touched) GROUP BY 1
           ),
           open_items AS (
               SELECT payable_account(i.payee_type, i.payee_id) AS account_id,
                      sum(i.amount_paise - i.covered_paise) AS uncovered_paise
               FROM payee_items i
               WHERE i.covered_paise <> i.amount_paise AND i.payee_id IN (SELECT payee_id FROM touched)
               GROUP BY 1
           )
           SELECT b.account_id, b.owed_paise, coalesce(o.uncovered_paise, 0) AS items_paise,
                  b.captured_paise - coalesce(s.settled_paise, 0) AS held_paise
           FROM ledger b
           LEFT JOIN open_items o ON o.account_id = b.account_id
           LEFT JOIN settled s ON s.account_id = b.account_id
           WHERE b.owed_paise <> coalesce(o.uncovered_paise, 0) + b.captured_paise - coalesce(s.settled_paise, 0)
           LIMIT 100""",
    ),
)
