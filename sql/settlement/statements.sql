-- One settlement statement per seller and settlement group of the day, staged for the outbox: the
-- orders settled, their gross, fees and net, and the payout the net went into (none when the seller
-- was not paid in the day's batch: below the minimum, held back, or netted against a clawback).
-- Deduplicated per group, so a re-run writes nothing twice.
-- :day  date
WITH groups AS (
    SELECT * FROM settlement_groups WHERE settlement_date = :day
),
paid_into AS (
    SELECT DISTINCT ON (i.item_key) i.item_key, pi.payout_id
    FROM payee_items i
    JOIN payout_items pi ON pi.payee_item_id = i.payee_item_id AND pi.released_at IS NULL
    WHERE i.item_date = :day AND i.item_type = 'settlement'
    ORDER BY i.item_key, pi.created_at DESC
),
staged AS (
    INSERT INTO pending_outbox (dedupe_key, event_type, audience, user_id, payload)
    SELECT 'settlement_statement:' || g.payee_item_key, 'settlement_statement', 'user', g.seller_id,
           jsonb_build_object('settlement_date', CAST(:day AS date), 'statement_id', g.payee_item_key,
                              'orders', g.orders, 'gross_paise', g.gross_paise,
                              'platform_fee_paise', g.platform_fee_paise, 'gateway_fee_paise', g.gateway_fee_paise,
                              'net_paise', g.net_paise, 'payout_id', p.payout_id)
    FROM groups g LEFT JOIN paid_into p ON p.item_key = g.payee_item_key
    RETURNING 1
)
SELECT count(*) AS statements FROM staged
