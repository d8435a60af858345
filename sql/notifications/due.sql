-- Whether the dispatcher has work: an outbox row to route, or a delivery due or left by a lost lease.
SELECT EXISTS (SELECT 1 FROM notifications WHERE status = 'pending')
    OR EXISTS (SELECT 1 FROM notification_deliveries
               WHERE (status IN ('pending', 'failed') AND next_attempt_at <= now())
                  OR (status = 'sending' AND lease_expires_at <= now()))
