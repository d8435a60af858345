-- The bounties earned in a day range, per day, as the fee what-if reads them: how many and their paise.
-- :first  date;  :last  date (inclusive)
SELECT earned_date AS day, count(*) AS bounties, sum(amount_paise) AS amount_paise
FROM bounties
WHERE earned_date BETWEEN :first AND :last
GROUP BY earned_date
ORDER BY earned_date
