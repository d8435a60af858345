-- Every webhook delivery by verdict and reason, most first.
SELECT verdict, reason, count(*) AS deliveries FROM webhook_events GROUP BY 1, 2 ORDER BY 3 DESC, 1, 2
