-- Record the outcomes (:outcomes, one JSON object per delivery) of a round sent under the lease :token.
-- A delivery whose lease was lost to another dispatcher is left as that dispatcher records it.
UPDATE notification_deliveries d
SET status = o.status,
    sent_at = CASE WHEN o.status = 'sent' THEN now() END,
    next_attempt_at = coalesce(o.next_attempt_at, d.next_attempt_at),
    last_error = o.error,
    template = o.template,
    subject = o.subject,
    body = o.body,
    message_id = o.message_id,
    lease_token = NULL,
    lease_expires_at = NULL,
    updated_at = now()
FROM jsonb_to_recordset(CAST(:outcomes AS jsonb)) AS o (
    delivery_id bigint, status text, next_attempt_at timestamptz, error text, template text, subject text,
    body text, message_id text
)
WHERE d.delivery_id = o.delivery_id AND d.status = 'sending' AND d.lease_token = CAST(:token AS uuid)
RETURNING d.delivery_id, d.notification_id, d.recipient, d.channel, d.status, d.attempts, d.last_error
