-- The books by account type at the day's latest ledger close (debit positive: what is owed to payees
-- shows negative). No rows when no close was taken for the day.
-- :day  date
SELECT t.account_type, t.balance_paise
FROM closing_totals t
WHERE t.close_id = (SELECT max(c.close_id) FROM ledger_closes c WHERE c.close_date = :day)
ORDER BY t.account_type
