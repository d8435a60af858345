-- One approved refund due for submission, locked for the claiming transaction (which keeps the lock
-- until the refund's outcome is recorded); refunds another run holds are skipped. Through the
-- partial index on approved refunds' next_attempt_at.
-- :now         timestamptz
-- :refund_ids  text[] or NULL, to submit only these
SELECT r.* FROM refunds r
WHERE r.status = 'approved' AND r.next_attempt_at <= :now
  AND (CAST(:refund_ids AS text[]) IS NULL OR r.refund_id = ANY (CAST(:refund_ids AS text[])))
ORDER BY r.next_attempt_at, r.refund_id
LIMIT 1
FOR NO KEY UPDATE SKIP LOCKED
