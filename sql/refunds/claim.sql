-- A batch of approved refunds due for submission, locked for the claiming transaction (which keeps the
-- locks until the batch's outcomes are recorded); refunds another run holds are skipped. Through the
-- partial index on approved refunds' next_attempt_at.
-- :now         timestamptz
-- :refund_ids  text[] or NULL, to submit only these
-- :limit       integer, the batch size
SELECT r.* FROM refunds r
WHERE r.status = 'approved' AND r.next_attempt_at <= :now
  AND (CAST(:refund_ids AS text[]) IS NULL OR r.refund_id = ANY (CAST(:refund_ids AS text[])))
ORDER BY r.next_attempt_at, r.refund_id
LIMIT :limit
FOR NO KEY UPDATE SKIP LOCKED
