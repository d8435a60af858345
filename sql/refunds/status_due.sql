-- Submitted refunds whose next status check is due, oldest due first, through the partial index on
-- submitted refunds' next_check_at.
-- :now    timestamptz
-- :limit  integer
SELECT refund_id FROM refunds
WHERE status = 'submitted' AND next_check_at <= :now
ORDER BY next_check_at, refund_id
LIMIT :limit
