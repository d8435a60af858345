-- The books by account type: every account type's balance.
SELECT a.account_type, sum(l.amount_paise) AS balance_paise FROM ledger_lines l
JOIN ledger_accounts a ON a.account_id = l.account_id GROUP BY a.account_type ORDER BY 1
