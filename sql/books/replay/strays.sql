-- The entry of every stray payment taken back for refunding, derived from the gateway's answer (the
-- amount it took) and the time it was resolved, as domain.refunds.stray posts it: the gateway owes us
-- the amount less its fee at the schedule in effect on that IST day, which the platform bears, and the
-- amount is the buyer's until refunded. Staged for ledger/post.sql.
INSERT INTO pending_postings (idempotency_key, entry_type, reference_id, account_id, amount_paise)
SELECT entry_key('stray_payment', s.order_id), 'stray_payment_received', s.order_id, line.account_id,
       line.amount_paise
FROM stray_payments s
JOIN fee_schedule_periods f
  ON CAST(timezone('Asia/Kolkata', s.resolved_at) AS date) >= f.effective_from
 AND CAST(timezone('Asia/Kolkata', s.resolved_at) AS date) < f.effective_to
CROSS JOIN LATERAL (SELECT bps_of(s.gateway_amount_paise, f.gateway_fee_bps) AS fee_paise) AS fee
CROSS JOIN LATERAL (
    VALUES ('gateway_clearing', s.gateway_amount_paise - fee.fee_paise), ('platform_revenue', fee.fee_paise),
           ('recon_suspense', -s.gateway_amount_paise)
) AS line (account_id, amount_paise)
WHERE s.refund_id IS NOT NULL AND line.amount_paise <> 0
