-- Orders settled and what the sellers were owed for them; paid orders still waiting.
SELECT (SELECT count(*) FROM settlement_lines) AS settled_orders,
       (SELECT coalesce(sum(seller_net_paise), 0)::bigint FROM settlement_lines) AS seller_net_paise,
       (SELECT count(*) FROM orders WHERE status IN ('paid', 'delivered')) AS waiting_orders
