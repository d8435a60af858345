-- Record a settlement line for every captured order that is eligible by the end of the day
-- (delivered, or paid and past the hold period of the fee schedule it was paid under), mark it
-- settled, and write the status-change outbox row, all in one statement.
-- :day_end          timestamptz, exclusive end of the partition day (Asia/Kolkata)
-- :settlement_date  date, the partition day
WITH eligible AS (
    SELECT f.*
    FROM orders o
    JOIN order_fees f ON f.order_id = o.order_id
    WHERE o.status IN ('paid', 'delivered')
      AND o.paid_at < :day_end
      AND (o.delivered_at < :day_end OR o.paid_at + make_interval(days => f.hold_days) <= :day_end)
      AND EXISTS (SELECT 1 FROM journal_entries j WHERE j.idempotency_key = 'capture:' || o.order_id)
),
lines AS (
    INSERT INTO settlement_lines (order_id, settlement_date, seller_id, gross_paise, platform_fee_paise,
                                  gateway_fee_paise, seller_net_paise, fee_schedule_id)
    SELECT order_id, :settlement_date, seller_id, gross_paise, platform_fee_paise, gateway_fee_paise,
           seller_net_paise, fee_schedule_id
    FROM eligible
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id, seller_id
),
settled AS (
    UPDATE orders o SET status = 'settled', updated_at = now()
    FROM lines l
    WHERE o.order_id = l.order_id AND o.status IN ('paid', 'delivered')
    RETURNING o.order_id, o.seller_id
),
outbox AS (
    INSERT INTO notifications (dedupe_key, user_id, audience, event_type, payload)
    SELECT 'order_status:' || order_id || '\:settled', seller_id, 'user', 'order_status_changed',
           jsonb_build_object('order_id', order_id, 'status', 'settled', 'settlement_date', :settlement_date)
    FROM settled
    ON CONFLICT (dedupe_key) DO NOTHING
)
SELECT count(*) AS lines FROM settled
