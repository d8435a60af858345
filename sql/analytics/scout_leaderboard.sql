-- Every scout, ranked by bounty earned to date. Small; rebuilt whole each night.
INSERT INTO analytics.scout_leaderboard (scout_id, scout_name, recruits, bounties_earned, bounty_paise, rank)
SELECT s.user_id, s.name,
       (SELECT count(*) FROM users r WHERE r.recruiter_id = s.user_id),
       coalesce(b.earned, 0), coalesce(b.amount_paise, 0),
       rank() OVER (ORDER BY coalesce(b.amount_paise, 0) DESC, s.user_id)
FROM users s
LEFT JOIN (
    SELECT scout_id, count(*) AS earned, sum(amount_paise) AS amount_paise FROM bounties GROUP BY scout_id
) b ON b.scout_id = s.user_id
WHERE s.role = 'scout'
