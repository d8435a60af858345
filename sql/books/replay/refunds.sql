-- Every completed refund's subledger row, entry and clawback item, derived from the refund as
-- recorded (order, amount, when it completed) as domain.refunds.store.complete writes them one at a
-- time: an order refund reverses the platform fee in proportion to the order's cumulative refunds
-- (domain.money.refund_split: round_half_up(platform fee x refunded so far / gross), less what earlier
-- refunds reversed), on the fees the capture computes (the schedule in effect on the IST payment day,
-- domain.money.fee_breakdown); the seller gives back the rest. A stray refund clears suspense.
-- Earlier means completed earlier (ties by refund id). Staged for ledger/post.sql under the entry id
-- the rows name.
WITH completed AS (
    SELECT r.refund_id, r.order_id, r.kind, r.seller_id, r.amount_paise AS refund_paise,
           CAST(timezone('Asia/Kolkata', r.completed_at) AS date) AS completed_date,
           o.amount_paise AS gross_paise,
           least(bps_of(o.amount_paise, f.platform_fee_bps),
                 o.amount_paise - bps_of(o.amount_paise, f.gateway_fee_bps)) AS platform_fee_paise,
           sum(r.amount_paise) OVER (PARTITION BY r.order_id, r.kind ORDER BY r.completed_at, r.refund_id)
               AS cumulative_paise
    FROM refunds r
    JOIN orders o ON o.order_id = r.order_id
    LEFT JOIN fee_schedule_periods f
      ON r.kind = 'order'
     AND CAST(timezone('Asia/Kolkata', o.paid_at) AS date) >= f.effective_from
     AND CAST(timezone('Asia/Kolkata', o.paid_at) AS date) < f.effective_to
    WHERE r.status = 'completed'
),
split AS (
    SELECT c.*,
           CASE WHEN c.kind = 'order' THEN
               -- round half up of a non-negative quotient, in exact integer arithmetic
               CAST(div(2 * CAST(c.platform_fee_paise AS numeric) * c.cumulative_paise + c.gross_paise,
                        2 * CAST(c.gross_paise AS numeric))
                    - div(2 * CAST(c.platform_fee_paise AS numeric) * (c.cumulative_paise - c.refund_paise)
                          + c.gross_paise, 2 * CAST(c.gross_paise AS numeric)) AS bigint)
           ELSE 0 END AS fee_reversed_paise
    FROM completed c
),
numbered AS (
    SELECT s.*, CASE WHEN s.kind = 'order' THEN s.refund_paise - s.fee_reversed_paise ELSE 0 END AS seller_debit_paise,
           nextval(pg_get_serial_sequence('journal_entries', 'entry_id')) AS entry_id
    FROM split s
),
subledger AS (
    INSERT INTO order_refunds (refund_id, order_id, kind, seller_id, completed_date, refund_paise,
                               platform_fee_reversed_paise, seller_debit_paise, entry_id)
    SELECT refund_id, order_id, kind, seller_id, completed_date, refund_paise, fee_reversed_paise, seller_debit_paise,
           entry_id
    FROM numbered
),
clawbacks AS (
    INSERT INTO payee_items (item_key, item_type, payee_type, payee_id, amount_paise, item_date, entry_id, refund_id)
    SELECT 'refund:' || refund_id, 'clawback', 'seller', seller_id, -seller_debit_paise, completed_date, entry_id,
           refund_id
    FROM numbered WHERE seller_debit_paise > 0
)
INSERT INTO pending_postings (entry_id, idempotency_key, entry_type, reference_id, account_id, amount_paise)
SELECT n.entry_id, entry_key('refund', n.refund_id), 'refund_completed', n.refund_id, line.account_id,
       line.amount_paise
FROM numbered n
CROSS JOIN LATERAL (
    VALUES (CASE WHEN n.kind = 'order' THEN payable_account('seller', n.seller_id) ELSE 'recon_suspense' END,
            CASE WHEN n.kind = 'order' THEN n.seller_debit_paise ELSE n.refund_paise END),
           ('platform_revenue', n.fee_reversed_paise),
           ('gateway_clearing', -n.refund_paise)
) AS line (account_id, amount_paise)
WHERE line.amount_paise <> 0
