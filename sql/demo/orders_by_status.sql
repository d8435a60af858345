-- The demo day's orders by status, most first.
SELECT status, count(*) AS orders FROM orders GROUP BY status ORDER BY 2 DESC, 1
