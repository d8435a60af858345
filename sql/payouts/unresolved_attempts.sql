-- Gateway calls for one payout whose outcome is not known yet (no answer, or an unknown one).
-- :payout_id  text
SELECT count(*) FROM payout_attempts WHERE payout_id = :payout_id AND (outcome IS NULL OR outcome = 'unknown')
