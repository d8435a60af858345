-- Stage the capture entry of DESIGN.md section 4 for every confirmed payment up to the end of the day
-- that has none yet (ledger/post.sql then writes them). Returns the orders and gross staged.
-- :day_end  timestamptz, exclusive end of the partition day (Asia/Kolkata)
WITH due AS (
    SELECT f.order_id, f.seller_id, f.gross_paise, f.platform_fee_paise, f.gateway_fee_paise,
           f.seller_net_paise, o.paid_at
    FROM orders o
    JOIN payment_confirmations c ON c.order_id = o.order_id AND c.confirmed
    JOIN order_fees f ON f.order_id = o.order_id
    WHERE o.paid_at < :day_end
      AND o.status IN ('paid', 'delivered', 'settled', 'partially_refunded', 'refunded')
      AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.idempotency_key = entry_key('capture', o.order_id))
),
staged AS (
    INSERT INTO pending_postings (idempotency_key, entry_type, description, occurred_at, reference_id,
                                  account_id, amount_paise)
    SELECT entry_key('capture', d.order_id), 'payment_captured', 'payment captured', d.paid_at, d.order_id,
           line.account_id, line.amount_paise
    FROM due d
    CROSS JOIN LATERAL (
        VALUES ('gateway_clearing', d.gross_paise - d.gateway_fee_paise),
               (payable_account('seller', d.seller_id), -d.seller_net_paise),
               ('platform_revenue', -d.platform_fee_paise)
    ) AS line (account_id, amount_paise)
    WHERE line.amount_paise <> 0
)
SELECT count(*) AS captured, coalesce(sum(gross_paise), 0) AS gross_paise FROM due
