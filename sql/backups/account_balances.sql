-- Every ledger account's balance (an account without lines counts as 0), as a count and one SHA-256
-- of "account_id:balance" lines in byte order, so two databases compare account by account cheaply
-- whatever their collations.
WITH balances AS (
    SELECT a.account_id, coalesce(sum(l.amount_paise), 0) AS balance_paise
    FROM ledger_accounts a LEFT JOIN ledger_lines l ON l.account_id = a.account_id
    GROUP BY a.account_id
)
SELECT count(*) AS accounts,
       encode(sha256(convert_to(coalesce(
           string_agg(account_id || ':' || balance_paise, E'\n' ORDER BY account_id COLLATE "C"), ''), 'UTF8')),
           'hex') AS balances_sha256
FROM balances
