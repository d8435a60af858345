-- The day's stored check results: passed, and all.
-- :day  text, the partition key
SELECT count(*) FILTER (WHERE passed) AS passed, count(*) AS checks FROM check_results WHERE partition_key = :day
