-- Make the deliveries of up to :limit pending outbox rows (one per recipient and channel of the routing
-- table :routes, from domain.notifications.routing) and mark the rows routed. A delivery the user's
-- preferences switch off is recorded as `suppressed`, unless it is critical: a critical event, or a
-- statement that leaves the seller's balance negative. Rows another dispatcher is routing are skipped.
WITH due AS (
    SELECT notification_id, user_id, audience, event_type, payload
    FROM notifications
    WHERE status = 'pending'
    ORDER BY notification_id
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
),
routed AS (
    SELECT d.notification_id,
           coalesce(d.user_id, 'finance') AS recipient,
           r.channel,
           CASE WHEN r.channel <> 'email' THEN NULL
                WHEN d.audience = 'finance' THEN CAST(:finance_email AS text)
                ELSE u.email END AS address,
           r.critical OR (d.event_type = 'settlement_statement'
                          AND (d.payload ->> 'balance_paise')::bigint < 0) AS critical,
           p.enabled
    FROM due d
    JOIN jsonb_to_recordset(CAST(:routes AS jsonb))
        AS r (event_type text, audience text, channel text, category text, critical boolean)
        ON r.event_type = d.event_type AND r.audience = d.audience
    LEFT JOIN users u ON u.user_id = d.user_id
    LEFT JOIN notification_preferences p
        ON p.user_id = d.user_id AND p.category = r.category AND p.channel = r.channel
),
inserted AS (
    INSERT INTO notification_deliveries (notification_id, recipient, channel, address, critical, status)
    SELECT notification_id, recipient, channel, address, critical,
           CASE WHEN NOT critical AND enabled IS FALSE THEN 'suppressed' ELSE 'pending' END
    FROM routed
    ORDER BY notification_id, channel
    ON CONFLICT (notification_id, recipient, channel) DO NOTHING
    RETURNING status
),
marked AS (
    UPDATE notifications n SET status = 'routed', routed_at = now()
    FROM due WHERE n.notification_id = due.notification_id
    RETURNING 1
)
SELECT (SELECT count(*) FROM marked) AS routed,
       (SELECT count(*) FROM inserted WHERE status = 'pending') AS deliveries,
       (SELECT count(*) FROM inserted WHERE status = 'suppressed') AS suppressed
