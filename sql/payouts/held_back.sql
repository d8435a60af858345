-- Every payee the payout batch of :day leaves unpaid, and why: the rules of payouts/batch.sql read the
-- other way round. Sellers with an available balance other than zero, scouts with a withdrawal request
-- waiting or a balance they cannot be paid (on hold, not active, no destination). Reasons, the most
-- pressing first:
--   on_hold                      an active payee hold (payee_holds; hold_reason says why)
--   payee_suspended, payee_closed  the user is not active (PATCH /v1/admin/users/{id})
--   no_payout_destination        never paid to a default
--   negative_balance             a seller's clawbacks exceed what it is owed: netted, never paid
--   below_minimum                a seller's balance is under the schedule's minimum payout
--   awaiting_gateway_settlement  :settled_funds_only (PAYOUT_REQUIRES_SETTLED_FUNDS) and the gateway has
--                                not yet paid us enough of the seller's money to reach the minimum
--   insufficient_balance         a scout's waiting requests exceed its balance
-- `due`: the batch pays such a payee (a seller at the minimum, a scout with a request) unless a reason
-- stands in the way; the others are waiting for more money or for a request.
-- :day  date;  :settled_funds_only  boolean;  :after_payee_id, :payee_type, :reason  text or NULL;
-- :limit  integer or NULL (every row)
WITH schedule AS (
    SELECT min_payout_paise FROM fee_schedule_periods WHERE :day >= effective_from AND :day < effective_to
),
owed AS (  -- read through the open-items index
    SELECT i.payee_type, i.payee_id, sum(i.amount_paise - i.covered_paise)::bigint AS available_paise,
           coalesce(sum(i.amount_paise - i.covered_paise) FILTER (
               WHERE NOT :settled_funds_only OR i.item_type <> 'settlement'
                  OR funds_settled(i.item_key, i.item_date, i.payee_id)), 0)::bigint AS funded_paise
    FROM payee_items i WHERE i.covered_paise <> i.amount_paise GROUP BY i.payee_type, i.payee_id
),
requested AS (
    SELECT scout_id, sum(amount_paise)::bigint AS requested_paise FROM scout_payout_requests
    WHERE status = 'requested' GROUP BY scout_id
),
standing AS (
    SELECT o.payee_type, o.payee_id, u.name, o.available_paise, coalesce(r.requested_paise, 0) AS requested_paise,
           h.reason AS hold_reason,
           (o.payee_type = 'seller' AND o.available_paise >= s.min_payout_paise)
               OR (o.payee_type = 'scout' AND r.scout_id IS NOT NULL) AS due,
           array_remove(ARRAY[
               CASE WHEN h.payee_hold_id IS NOT NULL THEN 'on_hold' END,
               CASE WHEN u.status <> 'active' THEN 'payee_' || u.status END,
               CASE WHEN u.payout_destination IS NULL THEN 'no_payout_destination' END,
               CASE WHEN o.payee_type = 'seller' AND o.available_paise < 0 THEN 'negative_balance' END,
               CASE WHEN o.payee_type = 'seller' AND o.available_paise BETWEEN 0 AND s.min_payout_paise - 1
                    THEN 'below_minimum' END,
               CASE WHEN o.payee_type = 'seller' AND o.available_paise >= s.min_payout_paise
                     AND o.funded_paise < s.min_payout_paise THEN 'awaiting_gateway_settlement' END,
               CASE WHEN r.requested_paise > o.available_paise THEN 'insufficient_balance' END
           ], NULL) AS reasons
    FROM owed o
    CROSS JOIN schedule s
    JOIN users u ON u.user_id = o.payee_id
    LEFT JOIN requested r ON r.scout_id = o.payee_id AND o.payee_type = 'scout'
    LEFT JOIN payee_holds h ON h.payee_id = o.payee_id AND h.released_at IS NULL
    WHERE o.available_paise <> 0
)
SELECT payee_type, payee_id, name, available_paise, requested_paise, hold_reason, reasons, due
FROM standing
WHERE cardinality(reasons) > 0
  AND (CAST(:after_payee_id AS text) IS NULL OR payee_id > :after_payee_id)
  AND (CAST(:payee_type AS text) IS NULL OR payee_type = :payee_type)
  AND (CAST(:reason AS text) IS NULL OR :reason = ANY(reasons))
ORDER BY payee_id
LIMIT :limit
