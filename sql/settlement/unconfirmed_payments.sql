-- Paid orders up to the end of the day that the gateway has not confirmed yet.
-- :day_end  timestamptz
SELECT o.order_id, o.amount_paise FROM orders o
WHERE o.paid_at < :day_end AND o.status IN ('paid', 'delivered')
  AND NOT EXISTS (SELECT 1 FROM payment_confirmations c WHERE c.order_id = o.order_id AND c.confirmed)
ORDER BY o.paid_at, o.order_id

