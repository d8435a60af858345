-- A payout covers these payee items (a retry of a failed payout).
-- :payout_id  text
-- :item_ids   bigint[], the payee items
-- :amounts    bigint[], what it covers of each
WITH covering AS (
    SELECT * FROM unnest(CAST(:item_ids AS bigint[]), CAST(:amounts AS bigint[])) AS c (payee_item_id, amount_paise)
),
items AS (
    INSERT INTO payout_items (payout_id, payee_item_id, amount_paise)
    SELECT :payout_id, payee_item_id, amount_paise FROM covering
)
UPDATE payee_items i SET covered_paise = i.covered_paise + c.amount_paise
FROM covering c WHERE c.payee_item_id = i.payee_item_id
