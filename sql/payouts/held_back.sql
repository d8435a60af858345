-- Payees owed at least the minimum payout (sellers) or with a withdrawal request (scouts) who were
-- not paid, and why: no payout destination, not active, on hold, or (PAYOUT_REQUIRES_SETTLED_FUNDS)
-- a seller whose money the gateway has not yet paid us. Never paid to a default.
-- :day  date, the batch day;  :settled_funds_only  boolean
WITH schedule AS (
    SELECT min_payout_paise FROM fee_schedule_periods WHERE :day >= effective_from AND :day < effective_to
),
owed AS (  -- read through the open-items index
    SELECT i.payee_type, i.payee_id, sum(i.amount_paise - i.covered_paise)::bigint AS available_paise,
           sum(i.amount_paise - i.covered_paise) FILTER (
               WHERE NOT :settled_funds_only OR i.item_type <> 'settlement'
                  OR funds_settled(i.item_key, i.item_date, i.payee_id))::bigint AS funded_paise
    FROM payee_items i WHERE i.covered_paise <> i.amount_paise GROUP BY i.payee_type, i.payee_id
),
wanting AS (
    SELECT o.payee_type, o.payee_id, o.available_paise, coalesce(o.funded_paise, 0) AS funded_paise,
           s.min_payout_paise
    FROM owed o CROSS JOIN schedule s
    WHERE (o.payee_type = 'seller' AND o.available_paise >= s.min_payout_paise)
       OR (o.payee_type = 'scout'
           AND EXISTS (SELECT 1 FROM scout_payout_requests r WHERE r.scout_id = o.payee_id AND r.status = 'requested'))
)
SELECT w.payee_type, w.payee_id, w.available_paise,
       CASE WHEN h.payee_hold_id IS NOT NULL THEN 'on_hold'
            WHEN u.status <> 'active' THEN 'payee_not_active'
            WHEN u.payout_destination IS NULL THEN 'no_payout_destination'
            ELSE 'awaiting_gateway_settlement' END AS reason
FROM wanting w
JOIN users u ON u.user_id = w.payee_id
LEFT JOIN payee_holds h ON h.payee_id = w.payee_id AND h.released_at IS NULL
WHERE h.payee_hold_id IS NOT NULL OR u.status <> 'active' OR u.payout_destination IS NULL
   OR (w.payee_type = 'seller' AND w.funded_paise < w.min_payout_paise)
ORDER BY w.payee_type, w.payee_id
