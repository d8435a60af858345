-- Payouts by status: how many and how much.
SELECT status, count(*) AS payouts, sum(amount_paise) AS amount_paise FROM payouts GROUP BY status ORDER BY status
