-- The status an order shows: the one the ingest API recorded, or what the subledger says followed it
-- (`settled` once a settlement row exists). Never written order by order.
CREATE OR REPLACE VIEW order_states AS
SELECT o.order_id,
       CASE WHEN o.status IN ('paid', 'delivered')
                 AND EXISTS (SELECT 1 FROM settlements s WHERE s.order_id = o.order_id) THEN 'settled'
            ELSE o.status END AS status
FROM orders o;
