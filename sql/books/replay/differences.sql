-- Every fact of the replay that the live books lack (`missing_<kind>`), every live fact the replay
-- does not produce (`extra_<kind>`), and every fact both have with other values (`<kind>_differs`,
-- naming the fields that differ), from the two sides of replay_facts (sql/books/replay/facts.sql).
INSERT INTO replay_differences (kind, id, fields, replay, live)
SELECT CASE WHEN l.id IS NULL THEN 'missing_' || r.kind
            WHEN r.id IS NULL THEN 'extra_' || l.kind
            ELSE r.kind || '_differs' END,
       coalesce(r.id, l.id),
       CASE WHEN r.id IS NULL OR l.id IS NULL THEN ARRAY[]::text[]
            ELSE ARRAY(SELECT field FROM jsonb_object_keys(r.facts || l.facts) AS field
                       WHERE r.facts -> field IS DISTINCT FROM l.facts -> field ORDER BY field) END,
       r.facts, l.facts
FROM (SELECT kind, id, facts FROM replay_facts WHERE side = 'replay') AS r
FULL JOIN (SELECT kind, id, facts FROM replay_facts WHERE side = 'live') AS l ON l.kind = r.kind AND l.id = r.id
WHERE r.facts IS DISTINCT FROM l.facts
