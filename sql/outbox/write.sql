-- Write the staged outbox rows that are events of the catalogue in its shape (:catalogue, from
-- domain.outbox.events: event type -> audiences and payload keys); a dedupe key already written is
-- skipped. Returns how many were written and how many do not conform (the caller refuses those).
WITH staged AS (
    DELETE FROM pending_outbox RETURNING *
),
checked AS (
    SELECT s.*,
           c.spec IS NOT NULL
           AND c.spec -> 'audiences' ? s.audience
           AND (s.audience = 'user') = (s.user_id IS NOT NULL)
           AND jsonb_typeof(s.payload) = 'object'
           AND (SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM jsonb_object_keys(s.payload) k)
               = (SELECT coalesce(array_agg(k ORDER BY k), '{}') FROM jsonb_array_elements_text(c.spec -> 'keys') k)
           AS conforms
    FROM staged s
    LEFT JOIN jsonb_each(CAST(:catalogue AS jsonb)) AS c (event_type, spec) ON c.event_type = s.event_type
),
written AS (
    INSERT INTO notifications (dedupe_key, user_id, audience, event_type, payload)
    SELECT dedupe_key, user_id, audience, event_type, payload FROM checked WHERE conforms
    ORDER BY dedupe_key
    ON CONFLICT (dedupe_key) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM written) AS written,
       (SELECT count(*) FROM checked WHERE NOT conforms) AS refused,
       (SELECT min(event_type) FROM checked WHERE NOT conforms) AS first_refused
