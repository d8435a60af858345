-- What one payee is owed and where it stands (domain.payouts.rules.PayeeBalance). Available: its open
-- payee items. Held: what it is owed in the ledger beyond those (captures not yet settled); the
-- ledger balance is a closing plus the lines since (ledger/account_balance.sql), never the history.
-- In flight and paid from its payouts, requested from its withdrawal requests.
-- :payee_id  text
-- :owed_paise  bigint, what the ledger says the payee is owed
WITH available AS (
    SELECT coalesce(sum(amount_paise - covered_paise), 0) AS paise FROM payee_items
    WHERE payee_id = :payee_id AND covered_paise <> amount_paise
)
SELECT a.paise AS available_paise,
       CAST(:owed_paise AS bigint) - a.paise AS held_paise,
       (SELECT coalesce(sum(amount_paise) FILTER (WHERE status IN ('pending', 'processing')), 0) FROM payouts
        WHERE payee_id = :payee_id) AS in_flight_paise,
       (SELECT coalesce(sum(amount_paise) FILTER (WHERE status = 'completed'), 0) FROM payouts
        WHERE payee_id = :payee_id) AS paid_paise,
       (SELECT coalesce(sum(amount_paise), 0) FROM scout_payout_requests
        WHERE scout_id = :payee_id AND status = 'requested') AS requested_paise
FROM available a
