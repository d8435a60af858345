-- One row per IST day, refund kind and reason: refunds completed on the day (paise, the platform fee
-- they reversed, what the sellers gave back) and refunds that failed on the day.
-- :day  date;  :day_start, :day_end  timestamptz bounds of the IST day
WITH completed AS (
    SELECT x.kind, r.reason, count(*) AS refunds, sum(x.refund_paise) AS refund_paise,
           sum(x.platform_fee_reversed_paise) AS fee_paise, sum(x.seller_debit_paise) AS clawback_paise
    FROM order_refunds x JOIN refunds r ON r.refund_id = x.refund_id
    WHERE x.completed_date = :day GROUP BY x.kind, r.reason
),
failed AS (
    SELECT kind, reason, count(*) AS refunds, sum(amount_paise) AS paise FROM refunds
    WHERE status = 'failed' AND failed_at >= :day_start AND failed_at < :day_end GROUP BY kind, reason
)
INSERT INTO analytics.refunds_daily (day, kind, reason, refunds_completed, refund_paise, refunded_platform_fee_paise,
                                     clawback_paise, refunds_failed, failed_paise)
SELECT :day, coalesce(c.kind, f.kind), coalesce(c.reason, f.reason), coalesce(c.refunds, 0),
       coalesce(c.refund_paise, 0), coalesce(c.fee_paise, 0), coalesce(c.clawback_paise, 0),
       coalesce(f.refunds, 0), coalesce(f.paise, 0)
FROM completed c FULL JOIN failed f ON f.kind = c.kind AND f.reason = c.reason
