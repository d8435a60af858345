-- Orders created on an IST day and where they stood at the end of that day, so a re-run or a
-- backfill gives the same row whenever it runs. Completed = delivered, or settled, by then.
-- :day  date;  :day_start, :day_end  timestamptz bounds of the IST day
INSERT INTO analytics.order_completion_daily (day, orders_created, orders_paid, orders_completed,
                                              orders_cancelled, orders_payment_failed, completion_rate_bps)
SELECT :day, c.created, c.paid, c.completed, c.cancelled, c.failed,
       CASE WHEN c.created > 0 THEN (c.completed * 10000) / c.created END
FROM (
    SELECT count(*) AS created,
           count(*) FILTER (WHERE o.paid_at < :day_end) AS paid,
           count(*) FILTER (WHERE o.delivered_at < :day_end OR sl.settlement_date <= :day) AS completed,
           count(*) FILTER (WHERE o.cancelled_at < :day_end) AS cancelled,
           count(*) FILTER (WHERE o.payment_failed_at < :day_end) AS failed
    FROM orders o
    LEFT JOIN settlements sl ON sl.order_id = o.order_id
    WHERE o.created_at >= :day_start AND o.created_at < :day_end
) AS c
