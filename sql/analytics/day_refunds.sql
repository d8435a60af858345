-- The day's refunds over every kind and reason (a few rows of analytics.refunds_daily): completed, the
-- platform fee they reversed, what the sellers gave back (clawbacks), and the ones that failed.
-- :day  date
SELECT coalesce(sum(refunds_completed), 0)::bigint AS refunds_completed,
       coalesce(sum(refund_paise), 0)::bigint AS refund_paise,
       coalesce(sum(clawback_paise), 0)::bigint AS clawback_paise,
       coalesce(sum(refunds_failed), 0)::bigint AS refunds_failed,
       coalesce(sum(failed_paise), 0)::bigint AS failed_paise
FROM analytics.refunds_daily WHERE day = :day
