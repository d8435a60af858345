-- The captured orders of a day range as the fee what-if reads them: per capture day, gross amount and
-- the rates of the fee schedule the orders were captured under, how many orders and the fees and net
-- posted for them. Orders of equal gross under equal rates share one fee computation
-- (domain.money.fee_breakdown depends on nothing else), so the draft costs one call per distinct
-- amount, not one per order. Read through the captures' day index.
-- :first  date;  :last  date (inclusive)
SELECT c.capture_date AS day, c.gross_paise, f.platform_fee_bps, f.gateway_fee_bps, count(*) AS orders,
       sum(c.platform_fee_paise) AS platform_fee_paise, sum(c.gateway_fee_paise) AS gateway_fee_paise,
       sum(c.seller_net_paise) AS seller_net_paise
FROM captures c
JOIN fee_schedules f ON f.fee_schedule_id = c.fee_schedule_id
WHERE c.capture_date BETWEEN :first AND :last
GROUP BY c.capture_date, c.gross_paise, f.platform_fee_bps, f.gateway_fee_bps
ORDER BY c.capture_date, c.gross_paise, f.platform_fee_bps, f.gateway_fee_bps
