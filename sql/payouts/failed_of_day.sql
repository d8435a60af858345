-- The largest failed payouts of one batch day, with the gateway's reason: what finance follows up.
-- :day  date;  :limit  integer
SELECT payout_id, payee_id, amount_paise, coalesce(failure_reason, '') AS failure_reason
FROM payouts WHERE batch_date = :day AND status = 'failed'
ORDER BY amount_paise DESC, payout_id LIMIT :limit
