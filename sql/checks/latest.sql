-- The latest stored result of each named check for one partition.
-- :partition_key  text
-- :names          text[]
SELECT DISTINCT ON (check_name) check_name, passed FROM check_results
WHERE partition_key = :partition_key AND check_name = ANY(:names)
ORDER BY check_name, checked_at DESC, check_result_id DESC
