-- Per seller and IST day: what settled that day (the day's settlement groups, summed per seller).
-- :day  date
INSERT INTO analytics.seller_earnings_daily (day, seller_id, orders_settled, gross_paise, platform_fee_paise,
                                             gateway_fee_paise, seller_net_paise)
SELECT :day, seller_id, sum(orders), sum(gross_paise), sum(platform_fee_paise), sum(gateway_fee_paise), sum(net_paise)
FROM settlement_groups
WHERE settlement_date = :day
GROUP BY seller_id
