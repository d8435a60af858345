-- Forget rate-limit windows older than an hour.
DELETE FROM rate_limit_counters WHERE window_started_at < now() - interval '1 hour'
