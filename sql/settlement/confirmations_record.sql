-- Record one chunk of the gateway's answers: a payment's row is inserted at its first answer and
-- updated at each later one. `confirmed_at` and `checked_at` are the database's time of recording
-- (the nightly captures read "confirmed since the day began" against it); `next_check_at` is when to
-- ask again, NULL once the answer is final. A final row is never overwritten.
-- The last state, amount and transaction the gateway reported are kept when a later call fails.
-- :answers  jsonb array of {order_id, confirmed, reason, gateway_state, gateway_amount_paise,
--           gateway_transaction_id, next_check_at}
INSERT INTO payment_confirmations AS c (order_id, confirmed, reason, gateway_state, gateway_amount_paise,
                                        gateway_transaction_id, checked_at, attempts, confirmed_at, next_check_at)
SELECT a.order_id, a.confirmed, a.reason, a.gateway_state, a.gateway_amount_paise, a.gateway_transaction_id,
       now(), 1, CASE WHEN a.confirmed THEN now() END, a.next_check_at
FROM jsonb_to_recordset(CAST(:answers AS jsonb)) AS a (
    order_id text, confirmed boolean, reason text, gateway_state text, gateway_amount_paise bigint,
    gateway_transaction_id text, next_check_at timestamptz
)
ON CONFLICT (order_id) DO UPDATE
SET confirmed = excluded.confirmed,
    reason = excluded.reason,
    gateway_state = coalesce(excluded.gateway_state, c.gateway_state),
    gateway_amount_paise = coalesce(excluded.gateway_amount_paise, c.gateway_amount_paise),
    gateway_transaction_id = coalesce(excluded.gateway_transaction_id, c.gateway_transaction_id),
    checked_at = excluded.checked_at,
    attempts = c.attempts + 1,
    confirmed_at = excluded.confirmed_at,
    next_check_at = excluded.next_check_at
WHERE NOT c.confirmed AND c.next_check_at IS NOT NULL
