-- What one day's runs captured and settled, in total. The settled figures come from the day's
-- settlement groups, which the ledger close's checks hold to the settlement rows they sum.
-- :day  date
SELECT (SELECT count(*) FROM captures WHERE capture_date = :day) AS captured_orders,
       (SELECT coalesce(sum(gross_paise), 0) FROM captures WHERE capture_date = :day) AS captured_gross_paise,
       (SELECT coalesce(sum(orders), 0) FROM settlement_groups WHERE settlement_date = :day) AS settled_orders,
       (SELECT coalesce(sum(net_paise), 0) FROM settlement_groups WHERE settlement_date = :day) AS settled_net_paise
