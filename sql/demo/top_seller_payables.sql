-- The five sellers owed the most, by their payable balance.
SELECT a.payee_id, u.name, -sum(l.amount_paise)::bigint AS owed_paise FROM ledger_lines l
JOIN ledger_accounts a ON a.account_id = l.account_id JOIN users u ON u.user_id = a.payee_id
WHERE a.account_type = 'seller_payable' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5
