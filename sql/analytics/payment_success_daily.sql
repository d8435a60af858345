-- Payment outcomes per IST day, from the verified gateway events recorded on the orders.
-- :day  date;  :day_start, :day_end  timestamptz bounds of the IST day
INSERT INTO analytics.payment_success_daily (day, payments_succeeded, payments_failed, success_rate_bps)
SELECT :day, s.succeeded, s.failed,
       CASE WHEN s.succeeded + s.failed > 0 THEN (s.succeeded * 10000) / (s.succeeded + s.failed) END
FROM (
    SELECT count(*) FILTER (WHERE paid_at >= :day_start AND paid_at < :day_end) AS succeeded,
           count(*) FILTER (WHERE payment_failed_at >= :day_start AND payment_failed_at < :day_end) AS failed
    FROM orders
    WHERE (paid_at >= :day_start AND paid_at < :day_end)
       OR (payment_failed_at >= :day_start AND payment_failed_at < :day_end)
) AS s
