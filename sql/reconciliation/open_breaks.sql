-- The oldest breaks still open among the reports up to :day, each with its age in days on :day, and
-- how many are open in all with their total difference (counted before the LIMIT). Read through the
-- (status, report_date) index: open breaks are few, however long the history.
-- :day  date;  :limit  integer
SELECT exception_id, class AS klass, report_date, expected_paise, reported_paise, :day - report_date AS age_days,
       count(*) OVER () AS open_breaks,
       sum(abs(reported_paise - expected_paise)) OVER ()::bigint AS open_breaks_paise
FROM recon_exceptions
WHERE status = 'open' AND report_date <= :day
ORDER BY report_date, exception_id
LIMIT :limit
