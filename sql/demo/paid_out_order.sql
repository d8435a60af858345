-- An order of a seller already paid (its settlement's payee item is in a completed payout) that no one
-- has asked a refund for: the demo refunds it after payout.
SELECT o.order_id, o.amount_paise
FROM settlements s
JOIN orders o ON o.order_id = s.order_id
JOIN payee_items i ON i.item_key = s.payee_item_key
JOIN payout_items pi ON pi.payee_item_id = i.payee_item_id AND pi.released_at IS NULL
JOIN payouts p ON p.payout_id = pi.payout_id AND p.status = 'completed'
WHERE NOT EXISTS (SELECT 1 FROM refunds r WHERE r.order_id = o.order_id) AND o.amount_paise <= 500000
ORDER BY o.amount_paise DESC, o.order_id
LIMIT 1
