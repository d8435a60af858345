-- Delivered orders of the demo day the buyers will ask refunds for: confirmed, large enough to refund
-- in thirds, each of another seller.
-- :count  integer
SELECT DISTINCT ON (o.seller_id) o.order_id, o.amount_paise
FROM orders o JOIN payment_confirmations c ON c.order_id = o.order_id AND c.confirmed
WHERE o.status = 'delivered' AND o.amount_paise >= 30000
ORDER BY o.seller_id, o.order_id
LIMIT :count
