-- Whether the refund jobs have anything to do now (what the refunds sensor asks): refunds due for
-- submission or a status check, stored refund webhooks not yet applied, stray payments to check.
-- Each through its own partial index.
-- :now  timestamptz
SELECT EXISTS (SELECT 1 FROM refunds WHERE status = 'approved' AND next_attempt_at <= :now)
    OR EXISTS (SELECT 1 FROM refunds WHERE status = 'submitted' AND next_check_at <= :now)
    OR EXISTS (SELECT 1 FROM webhook_events
               WHERE source = 'phonepe' AND verdict = 'accepted' AND processed_at IS NULL
                 AND event_type LIKE 'pg.refund.%')
    OR EXISTS (SELECT 1 FROM stray_payments WHERE status = 'reported' AND next_check_at <= :now)
    AS due
