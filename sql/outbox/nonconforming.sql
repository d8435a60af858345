-- Stored outbox rows that are not catalogue events in shape: none, unless a writer bypassed
-- domain.outbox. The tests run it after every scenario.
SELECT n.notification_id, n.event_type, n.audience FROM notifications n
LEFT JOIN jsonb_each(CAST(:catalogue AS jsonb)) AS c (event_type, spec) ON c.event_type = n.event_type
WHERE c.spec IS NULL OR NOT c.spec -> 'audiences' ? n.audience
   OR (SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM jsonb_object_keys(n.payload) k)
      <> (SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM jsonb_array_elements_text(c.spec -> 'keys') k)
ORDER BY n.notification_id LIMIT 20

