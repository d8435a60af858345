-- One settlement statement per seller and day, staged for the outbox: the orders that became payable
-- (their gross, fees and net), the refunds completed on the day (what the buyers got back and what the
-- seller gave back), the payout of the day's batch, and the balance left open after it: negative while
-- a clawback is still to be netted from later sales, and then nothing is paid.
-- Deduplicated per seller-day, so a re-run writes nothing twice.
-- :day  date
WITH settled AS (
    SELECT seller_id, sum(orders) AS orders, sum(gross_paise) AS gross_paise,
           sum(platform_fee_paise) AS platform_fee_paise, sum(gateway_fee_paise) AS gateway_fee_paise,
           sum(net_paise) AS net_paise
    FROM settlement_groups WHERE settlement_date = :day GROUP BY seller_id
),
refunded AS (
    SELECT seller_id, count(*) AS refunds, sum(refund_paise) AS refund_paise, sum(seller_debit_paise) AS clawback_paise
    FROM order_refunds WHERE completed_date = :day AND kind = 'order' GROUP BY seller_id
),
sellers AS (
    SELECT seller_id FROM settled UNION SELECT seller_id FROM refunded
),
paid AS (
    SELECT p.payee_id, p.payout_id, p.amount_paise FROM payouts p
    WHERE p.batch_date = :day AND p.payee_type = 'seller' AND p.retry_of_payout_id IS NULL
      AND p.payee_id IN (SELECT seller_id FROM sellers)
),
open_balance AS (
    SELECT i.payee_id, sum(i.amount_paise - i.covered_paise) AS balance_paise FROM payee_items i
    WHERE i.covered_paise <> i.amount_paise AND i.payee_id IN (SELECT seller_id FROM sellers)
    GROUP BY i.payee_id
),
staged AS (
    INSERT INTO pending_outbox (dedupe_key, event_type, audience, user_id, payload)
    SELECT 'settlement_statement:' || :day || ':' || s.seller_id, 'settlement_statement', 'user', s.seller_id,
           jsonb_build_object('settlement_date', CAST(:day AS date), 'statement_id', :day || ':' || s.seller_id,
                              'orders', coalesce(t.orders, 0), 'gross_paise', coalesce(t.gross_paise, 0),
                              'platform_fee_paise', coalesce(t.platform_fee_paise, 0),
                              'gateway_fee_paise', coalesce(t.gateway_fee_paise, 0),
                              'net_paise', coalesce(t.net_paise, 0), 'refunds', coalesce(r.refunds, 0),
                              'refund_paise', coalesce(r.refund_paise, 0),
                              'clawback_paise', coalesce(r.clawback_paise, 0),
                              'payout_id', p.payout_id, 'payout_paise', coalesce(p.amount_paise, 0),
                              'balance_paise', coalesce(b.balance_paise, 0))
    FROM sellers s
    LEFT JOIN settled t ON t.seller_id = s.seller_id
    LEFT JOIN refunded r ON r.seller_id = s.seller_id
    LEFT JOIN paid p ON p.payee_id = s.seller_id
    LEFT JOIN open_balance b ON b.payee_id = s.seller_id
    RETURNING 1
)
SELECT count(*) AS statements FROM staged
