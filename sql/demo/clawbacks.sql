-- Sellers whose open balance is negative after a clawback: what they owe until later sales net it.
SELECT payee_id, sum(amount_paise - covered_paise)::bigint AS balance_paise,
       coalesce(sum(amount_paise - covered_paise) FILTER (WHERE item_type = 'clawback'), 0)::bigint AS clawback_paise
FROM payee_items
WHERE covered_paise <> amount_paise AND payee_type = 'seller'
GROUP BY payee_id
HAVING sum(amount_paise - covered_paise) < 0
ORDER BY payee_id
