-- Orders as they are shown: the status the ingest API recorded, or what the subledger says followed it,
-- never written order by order: `refunded` once completed refunds add up to the amount paid,
-- `partially_refunded` after any smaller completed refund, else `settled` once a settlement row
-- exists. `recorded_status` is what the API's lifecycle moves from.
CREATE OR REPLACE VIEW order_states AS
SELECT o.order_id, o.buyer_id, o.seller_id, o.listing_id, o.title, o.amount_paise, o.currency,
       CASE WHEN o.status NOT IN ('paid', 'delivered') THEN o.status
            WHEN r.refunded_paise >= o.amount_paise THEN 'refunded'
            WHEN r.refunded_paise > 0 THEN 'partially_refunded'
            WHEN EXISTS (SELECT 1 FROM settlements s WHERE s.order_id = o.order_id) THEN 'settled'
            ELSE o.status END AS status,
       o.status AS recorded_status, o.gateway_order_id, o.gateway_transaction_id, o.payment_mode, o.paid_at,
       o.delivered_at, o.cancelled_at, o.payment_failed_at, o.created_at, o.updated_at
FROM orders o
LEFT JOIN LATERAL (
    SELECT coalesce(sum(x.refund_paise), 0) AS refunded_paise FROM order_refunds x
    WHERE x.order_id = o.order_id AND x.kind = 'order'
) r ON true;
