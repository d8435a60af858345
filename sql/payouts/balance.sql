-- What one payee is owed and where it stands (domain.payouts.rules.PayeeBalance): available and
-- held from payee_items, in flight and paid from its payouts, requested from its withdrawal requests.
-- :payee_id  text
SELECT (SELECT coalesce(sum(uncovered_paise) FILTER (WHERE eligible), 0) FROM payee_items
        WHERE payee_id = :payee_id) AS available_paise,
       (SELECT coalesce(sum(uncovered_paise) FILTER (WHERE NOT eligible), 0) FROM payee_items
        WHERE payee_id = :payee_id) AS held_paise,
       (SELECT coalesce(sum(amount_paise) FILTER (WHERE status IN ('pending', 'processing')), 0) FROM payouts
        WHERE payee_id = :payee_id) AS in_flight_paise,
       (SELECT coalesce(sum(amount_paise) FILTER (WHERE status = 'completed'), 0) FROM payouts
        WHERE payee_id = :payee_id) AS paid_paise,
       (SELECT coalesce(sum(amount_paise), 0) FROM scout_payout_requests
        WHERE scout_id = :payee_id AND status = 'requested') AS requested_paise
