-- The day's orders: how many were created and how many paid in it.
-- :day_start, :day_end  timestamptz
SELECT (SELECT count(*) FROM orders WHERE created_at >= :day_start AND created_at < :day_end) AS created,
       (SELECT count(*) FROM orders WHERE paid_at >= :day_start AND paid_at < :day_end) AS paid
