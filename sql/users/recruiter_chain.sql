-- A user and its recruiters upwards, nearest first (bounded, so a corrupt loop cannot hang the query).
-- :start  text, the user id
WITH RECURSIVE chain (user_id, depth) AS (
    SELECT CAST(:start AS text), 0
    UNION ALL
    SELECT u.recruiter_id, chain.depth + 1 FROM users u JOIN chain ON u.user_id = chain.user_id
    WHERE u.recruiter_id IS NOT NULL AND chain.depth < 10000
)
SELECT user_id FROM chain ORDER BY depth
