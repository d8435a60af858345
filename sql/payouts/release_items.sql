-- A payout's money came back (failed, cancelled, reversed): its items are released, and what they
-- covered is owed again, for the next batch to pay.
-- :payout_id  text
WITH released AS (
    UPDATE payout_items SET released_at = now()
    WHERE payout_id = :payout_id AND released_at IS NULL
    RETURNING payee_item_id, amount_paise
)
UPDATE payee_items i SET covered_paise = i.covered_paise - r.amount_paise
FROM released r WHERE r.payee_item_id = i.payee_item_id
