-- The batch day's payouts by status, over payee types and failure reasons (analytics.payout_health_daily).
-- :day  date
SELECT status, sum(payouts)::bigint AS payouts, sum(amount_paise)::bigint AS amount_paise
FROM analytics.payout_health_daily WHERE day = :day GROUP BY status ORDER BY status
