-- Paid orders up to the end of the day held back for want of a confirmation, with the last answer.
-- :day_end  timestamptz
SELECT o.order_id, o.amount_paise, c.reason, c.gateway_state FROM orders o
LEFT JOIN payment_confirmations c ON c.order_id = o.order_id
WHERE o.paid_at < :day_end AND o.status IN ('paid', 'delivered') AND NOT coalesce(c.confirmed, false)
ORDER BY o.paid_at, o.order_id

