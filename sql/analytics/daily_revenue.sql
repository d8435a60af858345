-- One row per IST day: GMV and fees of the payments the day's run captured, the refunds completed on
-- the day and the platform fee they reversed, bounties, the gateway fee the platform bore on stray
-- payments, and net revenue. From the subledger, through its day indexes.
-- :day  date;  :day_start, :day_end  timestamptz bounds of the IST day
WITH captured AS (
    SELECT count(*) AS orders_paid, coalesce(sum(gross_paise), 0) AS gmv_paise,
           coalesce(sum(platform_fee_paise), 0) AS platform_fee_paise,
           coalesce(sum(gateway_fee_paise), 0) AS gateway_fee_paise
    FROM captures WHERE capture_date = :day
),
refunded AS (
    SELECT coalesce(sum(refund_paise), 0) AS refunds_paise,
           coalesce(sum(platform_fee_reversed_paise), 0) AS fee_paise
    FROM order_refunds WHERE completed_date = :day AND kind = 'order'
),
stray AS (
    SELECT coalesce(sum(gateway_fee_paise), 0) AS fee_paise FROM stray_payments
    WHERE status = 'refunding' AND resolved_at >= :day_start AND resolved_at < :day_end
),
bounty AS (
    SELECT coalesce(sum(amount_paise), 0) AS bounty_paise FROM bounties WHERE earned_date = :day
)
INSERT INTO analytics.daily_revenue (day, orders_paid, gmv_paise, platform_fee_paise, gateway_fee_paise,
                                     refunds_paise, refunded_platform_fee_paise, bounty_expense_paise,
                                     stray_gateway_fee_paise, net_revenue_paise)
SELECT :day, c.orders_paid, c.gmv_paise, c.platform_fee_paise, c.gateway_fee_paise, r.refunds_paise,
       r.fee_paise, b.bounty_paise, s.fee_paise, c.platform_fee_paise - r.fee_paise - b.bounty_paise - s.fee_paise
FROM captured c, refunded r, bounty b, stray s
