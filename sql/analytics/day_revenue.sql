-- The day's row of analytics.daily_revenue, as the night's run has just rebuilt it.
-- :day  date
SELECT orders_paid, gmv_paise, platform_fee_paise, gateway_fee_paise, refunds_paise, refunded_platform_fee_paise,
       bounty_expense_paise, stray_gateway_fee_paise, net_revenue_paise
FROM analytics.daily_revenue WHERE day = :day
