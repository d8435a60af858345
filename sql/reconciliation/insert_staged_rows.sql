-- The staged rows, every one valid, as the report's rows.
-- :report_id  bigint
INSERT INTO gateway_report_rows (report_id, line, payment_type, merchant_reference_id, phonepe_reference_id, payer,
                                 instrument, created_at, transaction_at, settlement_date, bank_reference_no,
                                 amount_paise, fee_paise, igst_paise, cgst_paise, sgst_paise, settled_paise)
SELECT :report_id, r.line, r.payment_type, r.merchant_reference_id, r.phonepe_reference_id, r.payer, r.instrument,
       r.created_at, r.transaction_at, r.settlement_date, r.bank_reference_no, r.amount_paise, r.fee_paise,
       r.igst_paise, r.cgst_paise, r.sgst_paise, r.settled_paise
FROM staged_report_rows r;
