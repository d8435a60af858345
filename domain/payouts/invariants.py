"""Payout invariants, each a query returning the offending rows (none when it holds).

`PAYOUT_INVARIANTS` are a batch day's (:day): they read that day's payouts and the items they cover,
and the money in transit through the ledger's last close. `PAYABLE_INVARIANTS` hold every payee's
ledger balance to what it is owed item by item; they read every payee's history, so the scheduled
ledger audit runs them, not the night.
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
        "Every payee's payable balance equals its payee items no live payout covers plus its captures not yet settled.",
        """WITH owed AS (
               SELECT payable_account(payee_type, payee_id) AS account_id, sum(amount_paise - covered_paise) AS paise
               FROM payee_items GROUP BY 1
           ),
           held AS (
               SELECT payable_account('seller', c.seller_id) AS account_id, sum(c.seller_net_paise) AS paise
               FROM captures c WHERE NOT EXISTS (SELECT 1 FROM settlements s WHERE s.order_id = c.order_id)
               GROUP BY 1
           ),
           balances AS (
               SELECT l.account_id, -sum(l.amount_paise) AS paise FROM ledger_lines l
               JOIN ledger_accounts a ON a.account_id = l.account_id
               WHERE a.account_type IN ('seller_payable', 'scout_payable') GROUP BY 1
           )
           SELECT b.account_id, b.paise AS owed_in_ledger_paise, coalesce(o.paise, 0) AS items_paise,
                  coalesce(h.paise, 0) AS held_paise
           FROM balances b
           LEFT JOIN owed o ON o.account_id = b.account_id
           LEFT JOIN held h ON h.account_id = b.account_id
           WHERE b.paise <> coalesce(o.paise, 0) + coalesce(h.paise, 0)
           LIMIT 100""",
    ),
)
