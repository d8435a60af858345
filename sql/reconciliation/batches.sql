-- One report version's settlement batches (one per UTR): what the rows say the bank was paid, and
-- what our books hold in gateway clearing for the references we know (each reference once, however
-- often the report lists it), with the GST the schedule says the gateway charged on their fees.
-- A payment is known by its capture (gross less the gateway fee) or as a stray payment (amount less
-- its fee, GST at the schedule in effect); a refund by its subledger row (the refund going back).
-- Unknown rows have no books side.
-- :report_id  bigint
WITH rows AS (
    SELECT r.bank_reference_no AS utr, r.settlement_date, r.payment_type, r.merchant_reference_id AS reference_id,
           r.settled_paise,
           row_number() OVER (PARTITION BY r.payment_type, r.merchant_reference_id ORDER BY r.line) AS occurrence
    FROM gateway_report_rows r
    WHERE r.report_id = :report_id
),
booked AS (
    SELECT x.*,
           CASE WHEN x.occurrence > 1 THEN 0
                WHEN c.order_id IS NOT NULL THEN c.gross_paise - c.gateway_fee_paise
                WHEN s.order_id IS NOT NULL THEN coalesce(s.gateway_amount_paise, 0) - coalesce(s.gateway_fee_paise, 0)
                WHEN o.refund_id IS NOT NULL THEN -o.refund_paise
                ELSE 0 END AS clearing_paise,
           CASE WHEN x.occurrence > 1 THEN 0
                WHEN c.order_id IS NOT NULL THEN bps_of(c.gateway_fee_paise, f.gateway_gst_bps)
                WHEN s.order_id IS NOT NULL THEN bps_of(coalesce(s.gateway_fee_paise, 0), p.gateway_gst_bps)
                ELSE 0 END AS gst_paise
    FROM rows x
    LEFT JOIN captures c ON x.payment_type = 'PAYMENT' AND c.order_id = x.reference_id
    LEFT JOIN fee_schedules f ON f.fee_schedule_id = c.fee_schedule_id
    LEFT JOIN stray_payments s ON x.payment_type = 'PAYMENT' AND c.order_id IS NULL AND s.order_id = x.reference_id
    LEFT JOIN order_refunds o ON x.payment_type = 'REFUND' AND o.refund_id = x.reference_id
    LEFT JOIN fee_schedule_periods p ON x.settlement_date >= p.effective_from AND x.settlement_date < p.effective_to
)
SELECT utr, min(settlement_date) AS settlement_date, count(*) AS rows, sum(settled_paise) AS rows_settled_paise,
       sum(clearing_paise) AS clearing_paise, sum(gst_paise) AS gst_paise
FROM booked
GROUP BY utr
ORDER BY utr
