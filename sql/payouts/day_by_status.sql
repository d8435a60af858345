-- One batch day's payouts by status, through the (batch_date, status) index.
-- :day  date
SELECT status, count(*) AS payouts, sum(amount_paise)::bigint AS amount_paise
FROM payouts WHERE batch_date = :day GROUP BY status ORDER BY status
