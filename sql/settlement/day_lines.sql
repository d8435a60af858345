-- The day's settlement lines in total.
-- :day  date
SELECT count(*) AS lines, coalesce(sum(gross_paise), 0) AS gross_paise, coalesce(sum(seller_net_paise), 0) AS seller_net_paise
FROM settlement_lines WHERE settlement_date = :day
