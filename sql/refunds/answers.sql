-- What the gateway answered about a batch's attempts, in one statement (domain.refunds.submission):
-- each attempt's outcome and the answer's details (a detail the answer lacks keeps what the attempt
-- already says), answered_at at its first answer; a refund whose create was answered counts it.
-- :answers  jsonb array of {refund_attempt_id, outcome, http_status, gateway_error_code,
--           gateway_refund_id, response, error}
WITH answered AS (
    UPDATE refund_attempts a
    SET outcome = v.outcome,
        http_status = coalesce(v.http_status, a.http_status),
        gateway_error_code = coalesce(v.gateway_error_code, a.gateway_error_code),
        gateway_refund_id = coalesce(v.gateway_refund_id, a.gateway_refund_id),
        response = coalesce(v.response, a.response),
        error = coalesce(v.error, a.error),
        answered_at = coalesce(a.answered_at, now())
    FROM jsonb_to_recordset(CAST(:answers AS jsonb)) AS v (
        refund_attempt_id bigint, outcome text, http_status integer, gateway_error_code text,
        gateway_refund_id text, response jsonb, error text
    )
    WHERE a.refund_attempt_id = v.refund_attempt_id
    RETURNING a.refund_id, a.attempt_number, a.outcome
)
UPDATE refunds r
SET attempt_count = x.attempt_number
FROM answered x
WHERE r.refund_id = x.refund_id AND x.outcome IN ('accepted', 'retriable', 'unknown', 'rejected')
