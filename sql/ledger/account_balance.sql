-- One account's balance: its latest closing balance plus its lines after the latest close's mark
-- (an account with no closing row had no line up to that mark). Never reads the account's history.
-- :account_id  text
WITH last_close AS (
    SELECT coalesce(max(through_entry_id), 0) AS mark FROM ledger_closes
)
SELECT coalesce((SELECT b.balance_paise FROM closing_balances b WHERE b.account_id = :account_id
                 ORDER BY b.close_id DESC LIMIT 1), 0)
     + coalesce((SELECT sum(l.amount_paise) FROM ledger_lines l, last_close
                 WHERE l.account_id = :account_id AND l.entry_id > last_close.mark), 0) AS balance_paise
