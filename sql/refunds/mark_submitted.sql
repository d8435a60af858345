-- Refunds the gateway has and is working on (PENDING or CONFIRMED), any number in one statement
-- (domain.refunds.store.mark_submitted): an approved one becomes submitted; each is checked again from
-- its next_check_at; a gateway refund id the answer leaves out keeps the one already known.
-- :now      timestamptz
-- :refunds  jsonb array of {refund_id, gateway_refund_id, gateway_state, gateway_response, next_check_at}
UPDATE refunds r
SET status = CASE WHEN r.status = 'approved' THEN 'submitted' ELSE r.status END,
    submitted_at = CASE WHEN r.status = 'approved' THEN CAST(:now AS timestamptz) ELSE r.submitted_at END,
    next_attempt_at = CASE WHEN r.status = 'approved' THEN NULL ELSE r.next_attempt_at END,
    next_check_at = v.next_check_at,
    gateway_refund_id = coalesce(nullif(v.gateway_refund_id, ''), r.gateway_refund_id),
    gateway_state = v.gateway_state,
    gateway_response = v.gateway_response,
    updated_at = :now
FROM jsonb_to_recordset(CAST(:refunds AS jsonb)) AS v (
    refund_id text, gateway_refund_id text, gateway_state text, gateway_response jsonb, next_check_at timestamptz
)
WHERE r.refund_id = v.refund_id
