-- The entry of every break finance closed with money (accepted the gateway's figure or wrote it off),
-- derived from the break as recorded (its class, expected and reported paise), as
-- domain.reconciliation.resolution posts it: platform revenue takes the difference from suspense, or
-- from gateway clearing for a payment the report never listed. Staged for ledger/post.sql.
-- :money_resolutions  text[], domain.reconciliation.rules.MONEY_RESOLUTIONS
INSERT INTO pending_postings (idempotency_key, entry_type, reference_id, account_id, amount_paise)
SELECT entry_key('recon_resolution', x.exception_id), 'recon_resolved', x.exception_id, line.account_id,
       line.amount_paise
FROM recon_exceptions x
CROSS JOIN LATERAL (
    VALUES ('platform_revenue', x.expected_paise - x.reported_paise),
           (CASE WHEN x.class = 'missing_in_report' THEN 'gateway_clearing' ELSE 'recon_suspense' END,
            x.reported_paise - x.expected_paise)
) AS line (account_id, amount_paise)
WHERE x.status <> 'open' AND x.resolution = ANY (CAST(:money_resolutions AS text[]))
  AND x.expected_paise <> x.reported_paise
