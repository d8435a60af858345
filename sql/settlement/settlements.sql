-- Settle the day: every captured order that became eligible by the day's end (delivered, or paid and
-- past the hold period of the fee schedule it was paid under) gets its settlement row, and each
-- seller's newly settled orders one settlement group (their totals) and one payee item (their net,
-- what the payout batch pays).
--
-- The candidates are the night's work, never the history: orders captured in this day's run, orders
-- delivered during the day, and orders whose hold period ends during the day. The item key is
-- settlement:<day>:<seller>, or settlement:<day>:<seller>:<n> for a seller-day settled again later;
-- runs of one day are serialised by domain.settlement.store.
-- :day        date, the partition day
-- :day_start  timestamptz
-- :day_end    timestamptz
WITH holds AS (
    SELECT min(hold_days) AS shortest, max(hold_days) AS longest FROM fee_schedule_periods
),
candidates AS (
    SELECT order_id FROM captures WHERE capture_date = :day
    UNION
    SELECT o.order_id FROM orders o WHERE o.delivered_at >= :day_start AND o.delivered_at < :day_end
    UNION
    SELECT o.order_id FROM orders o CROSS JOIN holds h
    WHERE o.paid_at >= CAST(:day_start AS timestamptz) - make_interval(days => h.longest)
      AND o.paid_at < CAST(:day_end AS timestamptz) - make_interval(days => h.shortest)
),
eligible AS (
    SELECT c.order_id, c.seller_id, c.gross_paise, c.platform_fee_paise, c.gateway_fee_paise, c.seller_net_paise
    FROM candidates x
    JOIN captures c ON c.order_id = x.order_id
    JOIN orders o ON o.order_id = c.order_id
    JOIN fee_schedules f ON f.fee_schedule_id = c.fee_schedule_id
    WHERE o.status IN ('paid', 'delivered')
      AND (o.delivered_at < :day_end OR o.paid_at + make_interval(days => f.hold_days) <= :day_end)
      AND NOT EXISTS (SELECT 1 FROM settlements s WHERE s.order_id = c.order_id)
),
sellers AS (
    SELECT seller_id, count(*) AS orders, sum(gross_paise) AS gross_paise, sum(platform_fee_paise) AS platform_fee_paise,
           sum(gateway_fee_paise) AS gateway_fee_paise, sum(seller_net_paise) AS amount_paise,
           (SELECT count(*) FROM settlement_groups g
            WHERE g.settlement_date = :day AND g.seller_id = e.seller_id) AS earlier_batches
    FROM eligible e GROUP BY seller_id
),
groups AS (
    SELECT seller_id, orders, gross_paise, platform_fee_paise, gateway_fee_paise, amount_paise,
           CASE WHEN earlier_batches = 0 THEN entry_key('settlement', CAST(:day AS text), seller_id)
                ELSE entry_key('settlement', CAST(:day AS text), seller_id, (earlier_batches + 1)::text)
           END AS item_key
    FROM sellers
),
settled AS (
    INSERT INTO settlements (order_id, settlement_date, seller_id, payee_item_key)
    SELECT e.order_id, :day, e.seller_id, g.item_key FROM eligible e JOIN groups g ON g.seller_id = e.seller_id
),
summed AS (
    INSERT INTO settlement_groups (payee_item_key, settlement_date, seller_id, orders, gross_paise, platform_fee_paise,
                                   gateway_fee_paise, net_paise)
    SELECT item_key, :day, seller_id, orders, gross_paise, platform_fee_paise, gateway_fee_paise, amount_paise
    FROM groups
),
items AS (
    INSERT INTO payee_items (item_key, item_type, payee_type, payee_id, amount_paise, item_date)
    SELECT item_key, 'settlement', 'seller', seller_id, amount_paise, :day FROM groups WHERE amount_paise <> 0
)
SELECT (SELECT coalesce(sum(orders), 0) FROM groups) AS settled, (SELECT count(*) FROM groups) AS items
