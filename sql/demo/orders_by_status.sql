-- The demo day's orders by the status they show, most first.
SELECT status, count(*) AS orders FROM order_states GROUP BY status ORDER BY 2 DESC, 1
