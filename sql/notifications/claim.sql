-- Claim up to :limit deliveries that are due (pending, or failed and past their backoff) or whose
-- claimer's lease ran out (a dispatcher killed mid-send), under the lease :token for :lease_s seconds.
-- Each claim counts as an attempt. Rows another dispatcher holds locked are skipped.
WITH due AS (
    SELECT delivery_id
    FROM notification_deliveries
    WHERE (status IN ('pending', 'failed') AND next_attempt_at <= now())
       OR (status = 'sending' AND lease_expires_at <= now())
    ORDER BY delivery_id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
)
UPDATE notification_deliveries d
SET status = 'sending',
    lease_token = CAST(:token AS uuid),
    lease_expires_at = now() + make_interval(secs => :lease_s),
    attempts = d.attempts + 1,
    last_attempt_at = now(),
    updated_at = now()
FROM due, notifications n LEFT JOIN users u ON u.user_id = n.user_id
WHERE d.delivery_id = due.delivery_id AND n.notification_id = d.notification_id
RETURNING d.delivery_id, d.notification_id, d.recipient, d.channel, d.address, d.attempts,
          n.event_type, n.audience, n.payload, n.created_at, u.name, u.role
