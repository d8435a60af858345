-- Payments to ask the gateway about now, soonest due first. A payment is due when its outcome came
-- from a verified webhook (success: `paid` / `delivered`; failure: `payment_failed`), it has no final
-- answer yet, and either it was never asked about or its `next_check_at` has come.
-- Never-asked payments are looked for only among outcomes since :since (through the indexes on
-- `paid_at` and `payment_failed_at`), so the query reads recent orders, never the whole history; the
-- rest through the partial index on `next_check_at`.
-- :now    timestamptz, the caller's clock
-- :since  timestamptz, the oldest outcome a never-asked payment can have
-- :limit  integer
WITH candidates AS (
    SELECT c.order_id, c.attempts, c.gateway_state, c.next_check_at AS due_at
    FROM payment_confirmations c
    WHERE c.next_check_at <= :now
    UNION ALL
    SELECT o.order_id, 0, NULL, o.paid_at
    FROM orders o
    WHERE o.paid_at >= :since AND o.status IN ('paid', 'delivered')
      AND NOT EXISTS (SELECT 1 FROM payment_confirmations c WHERE c.order_id = o.order_id)
    UNION ALL
    SELECT o.order_id, 0, NULL, o.payment_failed_at
    FROM orders o
    WHERE o.payment_failed_at >= :since AND o.status = 'payment_failed'
      AND NOT EXISTS (SELECT 1 FROM payment_confirmations c WHERE c.order_id = o.order_id)
)
SELECT k.order_id, o.status, o.amount_paise, k.attempts, k.gateway_state,
       coalesce(CASE WHEN o.status = 'payment_failed' THEN o.payment_failed_at ELSE o.paid_at END,
                o.created_at) AS outcome_at
FROM candidates k
JOIN orders o ON o.order_id = k.order_id
WHERE o.status IN ('paid', 'delivered', 'payment_failed')
ORDER BY k.due_at, k.order_id
LIMIT :limit
