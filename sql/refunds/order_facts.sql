-- What the refund policy needs to know about one order (domain.refunds.rules.OrderFacts), read while
-- the caller holds the order's row lock, so concurrent requests see each other's refunds.
-- Refunded: completed refunds. In flight: refunds requested, approved or submitted. Settled: the
-- order has its settlement row. Paid out: the payee item that pays it is covered by a live payout.
-- In clawback: the seller has a clawback item no payout has netted yet.
-- :order_id  text
SELECT o.status, o.amount_paise, o.paid_at,
       coalesce(sum(r.amount_paise) FILTER (WHERE r.status = 'completed'), 0)::bigint AS refunded_paise,
       coalesce(sum(r.amount_paise) FILTER (WHERE r.status IN ('requested', 'approved', 'submitted')), 0)::bigint
           AS in_flight_paise,
       count(r.refund_id) FILTER (WHERE r.status NOT IN ('rejected', 'failed')) AS live_refunds,
       EXISTS (SELECT 1 FROM settlements s WHERE s.order_id = o.order_id) AS settled,
       EXISTS (SELECT 1 FROM settlements s
               JOIN payee_items i ON i.item_key = s.payee_item_key
               JOIN payout_items pi ON pi.payee_item_id = i.payee_item_id AND pi.released_at IS NULL
               WHERE s.order_id = o.order_id) AS paid_out,
       EXISTS (SELECT 1 FROM payee_items i
               WHERE i.payee_id = o.seller_id AND i.item_type = 'clawback' AND i.covered_paise <> i.amount_paise)
           AS seller_in_clawback
FROM orders o
LEFT JOIN refunds r ON r.order_id = o.order_id AND r.kind = 'order'
WHERE o.order_id = :order_id
GROUP BY o.order_id
