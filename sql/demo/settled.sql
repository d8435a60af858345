-- Orders settled and what the sellers were owed for them; paid orders still waiting.
SELECT (SELECT coalesce(sum(orders), 0)::bigint FROM settlement_groups) AS settled_orders,
       (SELECT coalesce(sum(net_paise), 0)::bigint FROM settlement_groups) AS seller_net_paise,
       (SELECT count(*) FROM order_states WHERE status IN ('paid', 'delivered')) AS waiting_orders
