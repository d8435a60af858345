-- Claim one due pending payout for submission, skipping payouts another worker holds and payees on
-- hold or not active (a suspended payee's pending payouts wait for its reactivation). The caller keeps
-- the row lock until the payout's outcome is recorded.
-- :started_at  timestamptz, due at or before
-- :batch_date  date or NULL, only this batch day
-- :payout_ids  text[] or NULL, only these payouts
SELECT p.*, u.name AS payee_name FROM payouts p JOIN users u ON u.user_id = p.payee_id
WHERE p.status = 'pending' AND p.next_attempt_at <= :started_at AND u.status = 'active'
  AND (CAST(:batch_date AS date) IS NULL OR p.batch_date = :batch_date)
  AND (CAST(:payout_ids AS text[]) IS NULL OR p.payout_id = ANY(:payout_ids))
  AND NOT EXISTS (SELECT 1 FROM payee_holds h WHERE h.payee_id = p.payee_id AND h.released_at IS NULL)
ORDER BY p.next_attempt_at, p.payout_id
LIMIT 1
FOR NO KEY UPDATE OF p SKIP LOCKED

