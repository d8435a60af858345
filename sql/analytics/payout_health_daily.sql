-- Payout health per batch day: payouts and paise by payee type, status and failure reason, with the
-- gateway attempts they took. Rebuilt for the day on every run (payouts change status after the batch).
-- :day  date
INSERT INTO analytics.payout_health_daily (day, payee_type, status, failure_reason, payouts, amount_paise, attempts)
SELECT p.batch_date, p.payee_type, p.status, coalesce(left(p.failure_reason, 200), ''), count(*),
       sum(p.amount_paise), sum(p.attempt_count)
FROM payouts p
WHERE p.batch_date = :day
GROUP BY p.batch_date, p.payee_type, p.status, coalesce(left(p.failure_reason, 200), '')
