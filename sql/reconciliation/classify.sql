-- Classify one report version against the day's books, set-based: one full outer join of the
-- report's rows with the day's expected items (captures of payments made on the day, refunds
-- completed on it) on (payment type, our reference), then a look-up by reference for what either
-- side lacks. Every row and every expected item becomes exactly one recon_items row of one class.
--
-- expected_paise is what the day's books expect of the item (0 for a row the day did not expect);
-- reported_paise what the row settles (0 for an item the report lacks). Charges are the gateway's
-- fee and its GST, positive, as the fee schedule the payment was captured under states them.
-- :report_id  bigint;  :day  date;  :day_start, :day_end  timestamptz (IST day)
-- :missing_is_break  boolean: the settlement window after :day has passed
WITH reported AS (
    SELECT r.line, r.payment_type, r.merchant_reference_id AS reference_id, r.bank_reference_no, r.amount_paise,
           -(r.fee_paise + r.igst_paise + r.cgst_paise + r.sgst_paise) AS charges_paise, r.settled_paise,
           row_number() OVER (PARTITION BY r.payment_type, r.merchant_reference_id ORDER BY r.line) AS occurrence
    FROM gateway_report_rows r
    WHERE r.report_id = :report_id
),
expected AS (
    SELECT 'PAYMENT' AS payment_type, c.order_id AS reference_id, c.gross_paise AS amount_paise,
           c.gateway_fee_paise + bps_of(c.gateway_fee_paise, f.gateway_gst_bps) AS charges_paise
    FROM orders o
    JOIN captures c ON c.order_id = o.order_id
    JOIN fee_schedules f ON f.fee_schedule_id = c.fee_schedule_id
    WHERE o.paid_at >= :day_start AND o.paid_at < :day_end
    UNION ALL
    SELECT 'REFUND', x.refund_id, -x.refund_paise, 0 FROM order_refunds x WHERE x.completed_date = :day
),
joined AS (
    SELECT coalesce(r.payment_type, e.payment_type) AS payment_type, coalesce(r.reference_id, e.reference_id)
               AS reference_id, r.line, r.bank_reference_no, coalesce(r.occurrence, 1) AS occurrence,
           r.amount_paise AS reported_amount, r.charges_paise AS reported_charges, r.settled_paise AS reported_paise,
           e.amount_paise AS expected_amount, e.charges_paise AS expected_charges, e.reference_id IS NOT NULL AS expected,
           e.reference_id IS NULL AS lookup
    FROM (SELECT * FROM reported WHERE occurrence = 1) r
    FULL OUTER JOIN expected e ON e.payment_type = r.payment_type AND e.reference_id = r.reference_id
    UNION ALL
    SELECT payment_type, reference_id, line, bank_reference_no, occurrence, amount_paise, charges_paise,
           settled_paise, NULL, NULL, false, false
    FROM reported WHERE occurrence > 1
),
looked_up AS (
    SELECT j.*, b.amount_paise AS books_amount, b.charges_paise AS books_charges,
           EXISTS (SELECT 1 FROM stray_payments s WHERE j.payment_type = 'PAYMENT' AND s.order_id = j.reference_id)
               AS stray,
           EXISTS (SELECT 1 FROM gateway_report_rows g JOIN gateway_reports gr ON gr.report_id = g.report_id
                   WHERE g.merchant_reference_id = j.reference_id AND g.payment_type = j.payment_type
                     AND gr.report_date > :day) AS reported_later
    FROM joined j
    -- `lookup` is tested inside, where it gates each branch once per item; in the ON clause it would
    -- be tested only after the look-up had run for every item.
    LEFT JOIN LATERAL (
        SELECT c.gross_paise AS amount_paise,
               c.gateway_fee_paise + bps_of(c.gateway_fee_paise, f.gateway_gst_bps) AS charges_paise
        FROM captures c JOIN fee_schedules f ON f.fee_schedule_id = c.fee_schedule_id
        WHERE j.lookup AND j.payment_type = 'PAYMENT' AND c.order_id = j.reference_id
        UNION ALL
        SELECT s.gateway_amount_paise, s.gateway_fee_paise + bps_of(s.gateway_fee_paise, p.gateway_gst_bps)
        FROM stray_payments s JOIN fee_schedule_periods p ON :day >= p.effective_from AND :day < p.effective_to
        WHERE j.lookup AND j.payment_type = 'PAYMENT' AND s.order_id = j.reference_id
          AND s.gateway_amount_paise IS NOT NULL
        UNION ALL
        SELECT -x.refund_paise, 0 FROM order_refunds x
        WHERE j.lookup AND j.payment_type = 'REFUND' AND x.refund_id = j.reference_id
    ) b ON true
),
classified AS (
    SELECT l.*,
           CASE
               WHEN l.occurrence > 1 THEN 'duplicate'
               WHEN l.reported_amount IS NULL THEN
                   CASE WHEN l.reported_later THEN 'settled_later'
                        WHEN :missing_is_break THEN 'missing_in_report'
                        ELSE 'missing_in_report_pending' END
               WHEN l.stray THEN 'paid_after_cancellation'
               WHEN NOT l.expected AND l.books_amount IS NULL THEN 'missing_in_books'
               WHEN coalesce(l.expected_amount, l.books_amount) <> l.reported_amount THEN
                   CASE WHEN l.payment_type = 'REFUND' THEN 'refund_mismatch' ELSE 'amount_mismatch' END
               WHEN coalesce(l.expected_charges, l.books_charges) <> l.reported_charges THEN 'fee_mismatch'
               WHEN NOT l.expected THEN 'late_settlement'
               ELSE 'matched'
           END AS class
    FROM looked_up l
)
INSERT INTO recon_items (report_id, item_no, report_date, class, payment_type, reference_id, line, bank_reference_no,
                         expected_amount_paise, reported_amount_paise, expected_charges_paise, reported_charges_paise,
                         expected_paise, reported_paise)
SELECT :report_id, row_number() OVER (ORDER BY line NULLS LAST, payment_type, reference_id), :day, class, payment_type,
       reference_id, line, bank_reference_no,
       coalesce(expected_amount, books_amount, 0), coalesce(reported_amount, 0),
       coalesce(expected_charges, books_charges, 0), coalesce(reported_charges, 0),
       CASE WHEN expected THEN expected_amount - expected_charges ELSE 0 END, coalesce(reported_paise, 0)
FROM classified
