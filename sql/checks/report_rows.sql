-- One report version's rows as one row of counts, each of which must be zero (the Great Expectations
-- suite `settlement_report_expectations` checks them): the rows the report says it has, its total,
-- signs by payment type, references present, and dates in range (a transaction no earlier than the
-- settlement window before the report's day and no later than the day; settled on or after it).
-- :report_id  bigint;  :earliest, :latest  date (IST transaction dates allowed)
SELECT count(r.line) AS rows,
       abs(count(r.line) - max(g.row_count)) AS rows_not_as_stored,
       abs(coalesce(sum(r.settled_paise), 0) - max(g.settled_paise)) AS total_not_as_stored,
       count(*) FILTER (WHERE (r.payment_type = 'PAYMENT' AND r.amount_paise <= 0)
                           OR (r.payment_type = 'REFUND' AND r.amount_paise >= 0)
                           OR r.fee_paise > 0 OR r.igst_paise > 0 OR r.cgst_paise > 0 OR r.sgst_paise > 0)
           AS wrong_signs,
       count(*) FILTER (WHERE r.settled_paise <> r.amount_paise + r.fee_paise + r.igst_paise + r.cgst_paise
                                                 + r.sgst_paise) AS settled_not_adding_up,
       count(*) FILTER (WHERE r.merchant_reference_id = '' OR r.bank_reference_no = '') AS missing_references,
       count(*) FILTER (WHERE CAST(r.transaction_at AT TIME ZONE 'Asia/Kolkata' AS date)
                                  NOT BETWEEN :earliest AND :latest
                           OR r.settlement_date < CAST(r.transaction_at AT TIME ZONE 'Asia/Kolkata' AS date))
           AS dates_out_of_range
FROM gateway_reports g
LEFT JOIN gateway_report_rows r ON r.report_id = g.report_id
WHERE g.report_id = :report_id
