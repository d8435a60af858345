-- The items of a failed payout that no live payout has covered since: what its retry pays.
-- :payout_id  text, the failed payout
SELECT v.payee_item_id, old.amount_paise
FROM payout_items old
JOIN payee_items v ON v.payee_item_id = old.payee_item_id
WHERE old.payout_id = :payout_id
  AND ((old.amount_paise > 0 AND v.amount_paise - v.covered_paise >= old.amount_paise)
    OR (old.amount_paise < 0 AND v.amount_paise - v.covered_paise <= old.amount_paise))
ORDER BY v.payee_item_id
