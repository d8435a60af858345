"""Control totals binding one day's refunds to their ledger entries (:day, :day_start, :day_end), each
a query returning the offending rows. They read the day's rows only, through the day's indexes."""

from __future__ import annotations

from domain.platform.invariants import Invariant

REFUND_INVARIANTS: tuple[Invariant, ...] = (
    Invariant(
        "completed_refunds_in_the_subledger",
        "Every refund completed during the day has exactly one subledger row, of its amount, naming a refund "
        "entry; and every subledger row of the day is of a completed refund.",
        """WITH day_refunds AS (
               SELECT refund_id FROM refunds WHERE completed_at >= :day_start AND completed_at < :day_end
               UNION
               SELECT refund_id FROM order_refunds WHERE completed_date = :day
           )
           SELECT d.refund_id, r.status, r.amount_paise, x.refund_paise, x.entry_id
           FROM day_refunds d
           JOIN refunds r ON r.refund_id = d.refund_id
           LEFT JOIN order_refunds x ON x.refund_id = d.refund_id
           LEFT JOIN journal_entries j ON j.entry_id = x.entry_id AND j.entry_type = 'refund_completed'
           WHERE r.status <> 'completed' OR x.refund_id IS NULL OR x.refund_paise <> r.amount_paise
              OR j.entry_id IS NULL
           LIMIT 100""",
    ),
    Invariant(
        "refund_entries_equal_their_rows",
        "Each of the day's refund entries has exactly the lines its subledger row says: gateway clearing the "
        "refund; for an order refund the seller payable the seller's part and platform revenue the reversed "
        "fee; for a stray payment, suspense the refund.",
        """WITH day_rows AS (
               SELECT x.*, CASE WHEN x.kind = 'order' THEN payable_account('seller', x.seller_id)
                                ELSE 'recon_suspense' END AS debited_account
               FROM order_refunds x WHERE x.completed_date = :day
           ),
           expected AS (
               SELECT refund_id, entry_id, 'gateway_clearing' AS account_id, -refund_paise AS amount_paise
               FROM day_rows
               UNION ALL
               SELECT refund_id, entry_id, debited_account,
                      CASE WHEN kind = 'order' THEN seller_debit_paise ELSE refund_paise END
               FROM day_rows
               UNION ALL
               SELECT refund_id, entry_id, 'platform_revenue', platform_fee_reversed_paise FROM day_rows
           ),
           wanted AS (SELECT * FROM expected WHERE amount_paise <> 0),
           posted AS (
               SELECT r.refund_id, l.entry_id, l.account_id, l.amount_paise
               FROM day_rows r JOIN ledger_lines l ON l.entry_id = r.entry_id
           )
           SELECT coalesce(w.refund_id, p.refund_id) AS refund_id, coalesce(w.account_id, p.account_id) AS account_id,
                  w.amount_paise AS expected_paise, p.amount_paise AS posted_paise
           FROM wanted w FULL JOIN posted p ON p.entry_id = w.entry_id AND p.account_id = w.account_id
           WHERE w.amount_paise IS DISTINCT FROM p.amount_paise
           LIMIT 100""",
    ),
    Invariant(
        "refunds_within_their_orders",
        "For every order refunded during the day, all its completed refunds together never exceed what the buyer "
        "paid nor reverse more platform fee than was charged, and a full refund reverses exactly the whole fee.",
        """WITH touched AS (
               SELECT DISTINCT order_id FROM order_refunds WHERE completed_date = :day AND kind = 'order'
           ),
           summed AS (
               SELECT x.order_id, sum(x.refund_paise) AS refunded_paise,
                      sum(x.platform_fee_reversed_paise) AS fee_reversed_paise
               FROM order_refunds x JOIN touched t ON t.order_id = x.order_id
               WHERE x.kind = 'order' GROUP BY x.order_id
           )
           SELECT s.order_id, o.amount_paise, s.refunded_paise, c.platform_fee_paise, s.fee_reversed_paise
           FROM summed s
           JOIN orders o ON o.order_id = s.order_id
           LEFT JOIN captures c ON c.order_id = s.order_id
           WHERE s.refunded_paise > o.amount_paise
              OR (c.order_id IS NOT NULL AND s.fee_reversed_paise > c.platform_fee_paise)
              OR (c.order_id IS NOT NULL AND s.refunded_paise = o.amount_paise
                  AND s.fee_reversed_paise <> c.platform_fee_paise)
           LIMIT 100""",
    ),
    Invariant(
        "clawbacks_owed_by_their_sellers",
        "Every order refund of the day that takes money from the seller has the seller's clawback item, for "
        "exactly that amount.",
        """SELECT x.refund_id, x.seller_id, x.seller_debit_paise, i.amount_paise AS item_paise, i.payee_id
           FROM order_refunds x
           LEFT JOIN payee_items i ON i.item_key = 'refund:' || x.refund_id
           WHERE x.completed_date = :day AND x.kind = 'order'
             AND (CASE WHEN x.seller_debit_paise = 0 THEN i.item_key IS NOT NULL
                       ELSE i.amount_paise IS DISTINCT FROM -x.seller_debit_paise
                            OR i.payee_id IS DISTINCT FROM x.seller_id OR i.item_type <> 'clawback' END)
           LIMIT 100""",
    ),
    Invariant(
        "stray_payments_posted_and_refunded",
        "Every stray payment taken up during the day has its entry (clearing the amount less the gateway fee, "
        "the fee borne by the platform, the amount in suspense) and a full refund of the amount.",
        """WITH day_strays AS (
               SELECT * FROM stray_payments
               WHERE status = 'refunding' AND resolved_at >= :day_start AND resolved_at < :day_end
           )
           SELECT s.order_id, s.gateway_amount_paise, s.gateway_fee_paise, r.amount_paise AS refund_paise,
                  count(l.entry_id) AS lines
           FROM day_strays s
           LEFT JOIN refunds r ON r.refund_id = s.refund_id AND r.kind = 'stray'
           LEFT JOIN ledger_lines l ON l.entry_id = s.entry_id AND (l.account_id, l.amount_paise) IN (
               ('gateway_clearing', s.gateway_amount_paise - s.gateway_fee_paise),
               ('platform_revenue', s.gateway_fee_paise),
               ('recon_suspense', -s.gateway_amount_paise))
           GROUP BY s.order_id, s.gateway_amount_paise, s.gateway_fee_paise, r.amount_paise
           HAVING r.amount_paise IS DISTINCT FROM s.gateway_amount_paise
               OR count(l.entry_id) <> CASE WHEN s.gateway_fee_paise = 0 THEN 2 ELSE 3 END
           LIMIT 100""",
    ),
)
