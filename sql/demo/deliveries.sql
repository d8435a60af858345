-- The demo's deliveries by event and channel: how many were sent, suppressed or are still to be retried.
SELECT n.event_type,
       d.channel,
       count(*) FILTER (WHERE d.status = 'sent') AS sent,
       count(*) FILTER (WHERE d.status = 'suppressed') AS suppressed,
       count(*) FILTER (WHERE d.status NOT IN ('sent', 'suppressed')) AS other
FROM notification_deliveries d
JOIN notifications n USING (notification_id)
GROUP BY n.event_type, d.channel
ORDER BY n.event_type, d.channel
