"""Control totals binding one day's subledger to its general-ledger entries (:day), each a query
returning the offending rows. They read the day's rows only, through the day's indexes."""

from __future__ import annotations

from domain.platform.invariants import Invariant

SETTLEMENT_INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "captures_name_their_entries",
        "Every capture row of the day names a capture entry of the ledger.",
        """SELECT c.order_id, c.entry_id FROM captures c
           LEFT JOIN journal_entries j ON j.entry_id = c.entry_id AND j.entry_type = 'payment_captured'
           WHERE c.capture_date = :day AND j.entry_id IS NULL LIMIT 100""",
    ),
    Invariant(
        "capture_entries_equal_their_captures",
        "Each of the day's capture entries has exactly the lines its capture rows sum to: gateway clearing "
        "the gross less the gateway fee, the seller payable the net, platform revenue the platform fee.",
        """WITH day_rows AS (
               SELECT entry_id, seller_id, sum(gross_paise - gateway_fee_paise) AS clearing_paise,
                      sum(seller_net_paise) AS net_paise, sum(platform_fee_paise) AS platform_fee_paise
               FROM captures WHERE capture_date = :day GROUP BY entry_id, seller_id
           ),
           lines AS (
               SELECT l.entry_id,
                      coalesce(sum(l.amount_paise) FILTER (WHERE l.account_id = 'gateway_clearing'), 0)
                          AS clearing_paise,
                      coalesce(-sum(l.amount_paise)
                               FILTER (WHERE l.account_id = payable_account('seller', r.seller_id)), 0) AS net_paise,
                      coalesce(-sum(l.amount_paise) FILTER (WHERE l.account_id = 'platform_revenue'), 0)
                          AS platform_fee_paise,
                      count(*) FILTER (WHERE l.account_id NOT IN ('gateway_clearing', 'platform_revenue')
                                         AND l.account_id <> payable_account('seller', r.seller_id)) AS foreign_lines
               FROM day_rows r JOIN ledger_lines l ON l.entry_id = r.entry_id GROUP BY l.entry_id
           )
           SELECT r.entry_id, r.clearing_paise, l.clearing_paise AS clearing_lines_paise, r.net_paise,
                  l.net_paise AS net_lines_paise, r.platform_fee_paise, l.platform_fee_paise AS fee_lines_paise
           FROM day_rows r LEFT JOIN lines l ON l.entry_id = r.entry_id
           WHERE l.entry_id IS NULL OR l.foreign_lines > 0 OR (r.clearing_paise, r.net_paise, r.platform_fee_paise)
                 <> (l.clearing_paise, l.net_paise, l.platform_fee_paise)
           LIMIT 100""",
    ),
    Invariant(
        "day_clearing_equals_day_captures",
        "The day's movement on gateway clearing through its capture entries equals the day's captures.",
        """SELECT c.expected_paise, l.moved_paise FROM
               (SELECT coalesce(sum(gross_paise - gateway_fee_paise), 0) AS expected_paise FROM captures
                WHERE capture_date = :day) c,
               (SELECT coalesce(sum(l.amount_paise), 0) AS moved_paise FROM ledger_lines l
                WHERE l.account_id = 'gateway_clearing'
                  AND l.entry_id IN (SELECT DISTINCT entry_id FROM captures WHERE capture_date = :day)) l
           WHERE c.expected_paise <> l.moved_paise""",
    ),
    Invariant(
        "settlements_have_captures_groups_and_items",
        "Every settlement of the day is of a captured order of its seller; its settlement group sums exactly "
        "its settled orders, and its payee item holds their net.",
        """WITH summed AS (
               SELECT s.payee_item_key, s.seller_id, count(c.order_id) AS captured, count(*) AS settled,
                      coalesce(sum(c.gross_paise), 0) AS gross_paise, coalesce(sum(c.seller_net_paise), 0) AS net_paise,
                      bool_and(c.seller_id = s.seller_id) AS same_seller
               FROM settlements s LEFT JOIN captures c ON c.order_id = s.order_id
               WHERE s.settlement_date = :day GROUP BY s.payee_item_key, s.seller_id
           )
           SELECT t.payee_item_key, t.settled, t.captured, t.net_paise, g.net_paise AS group_paise,
                  i.amount_paise AS item_paise
           FROM summed t
           LEFT JOIN settlement_groups g ON g.payee_item_key = t.payee_item_key
           LEFT JOIN payee_items i ON i.item_key = t.payee_item_key
           WHERE t.captured <> t.settled OR NOT t.same_seller
              OR (g.orders, g.gross_paise, g.net_paise, g.seller_id) IS DISTINCT FROM
                 (t.settled, t.gross_paise, t.net_paise, t.seller_id)
              OR coalesce(i.amount_paise, 0) <> t.net_paise
              OR (t.net_paise <> 0 AND i.payee_id IS DISTINCT FROM t.seller_id)
           LIMIT 100""",
    ),
    Invariant(
        "bounties_posted_and_owed",
        "Every bounty earned on the day has its entry and its payee item, for its amount.",
        """SELECT b.bounty_id, b.amount_paise, i.amount_paise AS item_paise, l.amount_paise AS payable_paise
           FROM bounties b
           LEFT JOIN payee_items i ON i.bounty_id = b.bounty_id
           LEFT JOIN ledger_lines l ON l.entry_id = i.entry_id AND l.account_id = payable_account('scout', b.scout_id)
           WHERE b.earned_date = :day
             AND (i.amount_paise IS DISTINCT FROM b.amount_paise OR l.amount_paise IS DISTINCT FROM -b.amount_paise)
           LIMIT 100""",
    ),
)
