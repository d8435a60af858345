-- Paid orders up to the end of the day that the gateway has not confirmed yet, with its last answer.
-- Read from the unconfirmed confirmations (few), never from the day's orders.
-- :day_end  timestamptz
SELECT o.order_id, o.amount_paise, c.reason, c.gateway_state
FROM payment_confirmations c JOIN orders o ON o.order_id = c.order_id
WHERE NOT c.confirmed AND o.paid_at < :day_end AND o.status IN ('paid', 'delivered')
ORDER BY o.paid_at, o.order_id
