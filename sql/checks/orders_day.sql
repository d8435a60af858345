-- The day's orders (created or paid on it) as one row of counts, each of which must be zero (the
-- Great Expectations suite `day_orders_expectations` checks them).
-- :day_start, :day_end  timestamptz;  :min_paise, :max_paise  the configured order bounds
SELECT count(*) AS orders,
       count(*) FILTER (WHERE amount_paise IS NULL OR amount_paise < :min_paise OR amount_paise > :max_paise)
           AS amount_out_of_bounds,
       count(*) FILTER (WHERE status NOT IN ('created', 'paid', 'payment_failed', 'delivered', 'cancelled'))
           AS unknown_status,
       count(*) FILTER (WHERE currency IS DISTINCT FROM 'INR') AS not_inr
FROM orders
WHERE (created_at >= :day_start AND created_at < :day_end) OR (paid_at >= :day_start AND paid_at < :day_end)
