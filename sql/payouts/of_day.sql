-- One batch day's payouts, for the demo's summary and the operator.
-- :day  date
SELECT p.payout_id, p.payee_type, p.payee_id, p.amount_paise, p.status, p.attempt_count, p.failure_reason,
       p.retry_of_payout_id
FROM payouts p WHERE p.batch_date = :day ORDER BY p.payee_type, p.payee_id, p.payout_id

