-- The items of a failed payout that no live payout has covered since: what its retry pays.
-- :payout_id  text, the failed payout
-- :payee      text, its payee
SELECT v.entry_id, v.item_type, v.order_id, v.bounty_id, v.refund_id, old.amount_paise
FROM payout_items old
JOIN payee_items v ON v.entry_id = old.entry_id AND v.payee_id = :payee
WHERE old.payout_id = :payout_id
  AND ((old.amount_paise > 0 AND v.uncovered_paise >= old.amount_paise)
    OR (old.amount_paise < 0 AND v.uncovered_paise <= old.amount_paise))
ORDER BY v.entry_id

