-- What one day's runs captured and settled, in total.
-- :day  date
SELECT (SELECT count(*) FROM captures WHERE capture_date = :day) AS captured_orders,
       (SELECT coalesce(sum(gross_paise), 0) FROM captures WHERE capture_date = :day) AS captured_gross_paise,
       (SELECT count(*) FROM settlements WHERE settlement_date = :day) AS settled_orders,
       (SELECT coalesce(sum(c.seller_net_paise), 0) FROM settlements s JOIN captures c ON c.order_id = s.order_id
        WHERE s.settlement_date = :day) AS settled_net_paise
