-- Record a settlement line for every captured order that is eligible by the end of the day
-- (delivered, or paid and past the hold period of the fee schedule it was paid under), mark it
-- settled, and stage the seller's status-change outbox row (outbox/write.sql writes it).
-- :day_end  timestamptz, exclusive end of the partition day (Asia/Kolkata)
-- :day      date, the partition day
WITH eligible AS (
    SELECT f.*, o.status AS previous_status
    FROM orders o
    JOIN order_fees f ON f.order_id = o.order_id
    WHERE o.status IN ('paid', 'delivered')
      AND o.paid_at < :day_end
      AND (o.delivered_at < :day_end OR o.paid_at + make_interval(days => f.hold_days) <= :day_end)
      AND EXISTS (SELECT 1 FROM journal_entries j WHERE j.idempotency_key = entry_key('capture', o.order_id))
),
lines AS (
    INSERT INTO settlement_lines (order_id, settlement_date, seller_id, gross_paise, platform_fee_paise,
                                  gateway_fee_paise, seller_net_paise, fee_schedule_id)
    SELECT order_id, :day, seller_id, gross_paise, platform_fee_paise, gateway_fee_paise,
           seller_net_paise, fee_schedule_id
    FROM eligible
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id, seller_id
),
settled AS (
    UPDATE orders o SET status = 'settled', updated_at = now()
    FROM lines l JOIN eligible e ON e.order_id = l.order_id
    WHERE o.order_id = l.order_id AND o.status IN ('paid', 'delivered')
    RETURNING o.order_id, o.seller_id, e.previous_status
),
outbox AS (
    INSERT INTO pending_outbox (dedupe_key, event_type, audience, user_id, payload)
    SELECT 'order_status:' || order_id || '\:settled', 'order_status_changed', 'user', seller_id,
           jsonb_build_object('order_id', order_id, 'previous_status', previous_status, 'status', 'settled')
    FROM settled
)
SELECT count(*) AS lines FROM settled
