-- Whether the staged file is a report the parser accepts, and the totals gateway_reports keeps: the
-- header must be exactly the parser's columns and every row valid.
SELECT coalesce((SELECT (h.payment_type, h.merchant_reference_id, h.phonepe_reference_id, h.payer, h.instrument,
                         h.created_at, h.amount, h.fee, h.transaction_at, h.settlement_date, h.bank_reference_no,
                         h.igst, h.cgst, h.sgst)
                        = ('PaymentType', 'MerchantReferenceId', 'PhonePeReferenceId', 'From', 'Instrument',
                           'CreationDate', 'Amount', 'Fee', 'TransactionDate', 'SettlementDate', 'BankReferenceNo',
                           'IGST', 'CGST', 'SGST')
                 FROM staged_report_cells h WHERE h.line = 1), false) AS header_ok,
       count(*) FILTER (WHERE r.valid IS NOT TRUE) AS invalid,
       count(*) AS row_count,
       coalesce(sum(r.settled_paise), 0)::bigint AS settled_paise
FROM staged_report_rows r;
