-- Add a worker's pending hits to a shared rate-limit window; returns the window's total.
-- :bucket  text, the key or address bucket
-- :window  bigint, the window's start in epoch seconds
-- :hits    bigint
INSERT INTO rate_limit_counters (bucket, window_started_at, hits)
VALUES (:bucket, to_timestamp(:window), :hits)
ON CONFLICT (bucket, window_started_at)
DO UPDATE SET hits = rate_limit_counters.hits + EXCLUDED.hits, updated_at = now()
RETURNING hits
