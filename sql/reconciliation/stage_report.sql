-- A report file's records, as COPY reads them, staged as text with each record's number (the header
-- is 1, like the parser's line numbers), and the views that read them as the Python parser does:
-- every cell stripped of what Python's str.strip() strips, checked by the parser's rules, and
-- converted (paise exact, IST) only where the whole row passed. Dropped before the import ends.
CREATE TEMP TABLE staged_report (
    line integer GENERATED ALWAYS AS IDENTITY,
    payment_type text, merchant_reference_id text, phonepe_reference_id text, payer text, instrument text,
    created_at text, amount text, fee text, transaction_at text, settlement_date text, bank_reference_no text,
    igst text, cgst text, sgst text
);

CREATE TEMP VIEW staged_report_cells AS
SELECT s.line,
       -- Python's csv module refuses a field longer than its field size limit (131072 characters).
       greatest(length(s.payment_type), length(s.merchant_reference_id), length(s.phonepe_reference_id),
                length(s.payer), length(s.instrument), length(s.created_at), length(s.amount), length(s.fee),
                length(s.transaction_at), length(s.settlement_date), length(s.bank_reference_no),
                length(s.igst), length(s.cgst), length(s.sgst)) < 131072 AS fits,
       btrim(coalesce(s.payment_type, ''), w.space) AS payment_type,
       btrim(coalesce(s.merchant_reference_id, ''), w.space) AS merchant_reference_id,
       btrim(coalesce(s.phonepe_reference_id, ''), w.space) AS phonepe_reference_id,
       btrim(coalesce(s.payer, ''), w.space) AS payer,
       btrim(coalesce(s.instrument, ''), w.space) AS instrument,
       btrim(coalesce(s.created_at, ''), w.space) AS created_at,
       btrim(coalesce(s.amount, ''), w.space) AS amount,
       btrim(coalesce(s.fee, ''), w.space) AS fee,
       btrim(coalesce(s.transaction_at, ''), w.space) AS transaction_at,
       btrim(coalesce(s.settlement_date, ''), w.space) AS settlement_date,
       btrim(coalesce(s.bank_reference_no, ''), w.space) AS bank_reference_no,
       btrim(coalesce(s.igst, ''), w.space) AS igst,
       btrim(coalesce(s.cgst, ''), w.space) AS cgst,
       btrim(coalesce(s.sgst, ''), w.space) AS sgst
FROM staged_report s
-- Every character Python's str.isspace() accepts.
CROSS JOIN (VALUES (U&'\0009\000A\000B\000C\000D\001C\001D\001E\001F \0085\00A0\1680\2000\2001\2002\2003\2004\2005\2006\2007\2008\2009\200A\2028\2029\202F\205F\3000')) AS w (space);

-- Rupees: an optional minus, 1 to 16 digits, optionally a point and 1 or 2 digits. Datetimes
-- YYYY-MM-DD HH:MM:SS and dates YYYY-MM-DD, real calendar days. (Spelled with LIKE and translate:
-- bounded repetitions make PostgreSQL's regular expressions slow.)
CREATE TEMP VIEW staged_report_checked AS
SELECT c.*,
       c.fits AND c.payment_type IN ('PAYMENT', 'REFUND')
       AND c.merchant_reference_id <> '' AND c.phonepe_reference_id <> ''
       AND c.amount ~ '^-?[0-9]+(\.[0-9][0-9]?)?$' AND length(split_part(ltrim(c.amount, '-'), '.', 1)) <= 16
       AND c.fee ~ '^-?[0-9]+(\.[0-9][0-9]?)?$' AND length(split_part(ltrim(c.fee, '-'), '.', 1)) <= 16
       AND c.igst ~ '^-?[0-9]+(\.[0-9][0-9]?)?$' AND length(split_part(ltrim(c.igst, '-'), '.', 1)) <= 16
       AND c.cgst ~ '^-?[0-9]+(\.[0-9][0-9]?)?$' AND length(split_part(ltrim(c.cgst, '-'), '.', 1)) <= 16
       AND c.sgst ~ '^-?[0-9]+(\.[0-9][0-9]?)?$' AND length(split_part(ltrim(c.sgst, '-'), '.', 1)) <= 16
       AND c.created_at LIKE '____-__-__ __:__:__' AND translate(c.created_at, '0123456789', '') = '-- ::'
       AND substr(c.created_at, 12) COLLATE "C" < '24' AND substr(c.created_at, 15, 1) COLLATE "C" < '6'
       AND substr(c.created_at, 18, 1) COLLATE "C" < '6' AND pg_input_is_valid(left(c.created_at, 10), 'date')
       AND c.transaction_at LIKE '____-__-__ __:__:__' AND translate(c.transaction_at, '0123456789', '') = '-- ::'
       AND substr(c.transaction_at, 12) COLLATE "C" < '24' AND substr(c.transaction_at, 15, 1) COLLATE "C" < '6'
       AND substr(c.transaction_at, 18, 1) COLLATE "C" < '6'
       AND pg_input_is_valid(left(c.transaction_at, 10), 'date')
       AND c.settlement_date LIKE '____-__-__' AND translate(c.settlement_date, '0123456789', '') = '--'
       AND pg_input_is_valid(c.settlement_date, 'date')
           AS well_formed
FROM (SELECT * FROM staged_report_cells OFFSET 0) AS c  -- each cell stripped once
WHERE c.line > 1;

CREATE TEMP VIEW staged_report_rows AS
SELECT p.*,
       p.well_formed AND p.fee_paise <= 0 AND p.igst_paise <= 0 AND p.cgst_paise <= 0 AND p.sgst_paise <= 0
       AND CASE p.payment_type WHEN 'PAYMENT' THEN p.amount_paise > 0 AND p.settled_paise >= 0
                               ELSE p.amount_paise < 0 END AS valid
FROM (
    SELECT k.line, k.well_formed, k.payment_type, k.merchant_reference_id, k.phonepe_reference_id, k.payer,
           k.instrument, k.bank_reference_no,
           CASE WHEN k.well_formed THEN (k.created_at::timestamp - interval '330 minutes') AT TIME ZONE 'UTC' END
               AS created_at,
           CASE WHEN k.well_formed THEN (k.transaction_at::timestamp - interval '330 minutes') AT TIME ZONE 'UTC' END
               AS transaction_at,
           CASE WHEN k.well_formed THEN k.settlement_date::date END AS settlement_date,
           a.amount_paise, a.fee_paise, a.igst_paise, a.cgst_paise, a.sgst_paise,
           a.amount_paise + a.fee_paise + a.igst_paise + a.cgst_paise + a.sgst_paise AS settled_paise
    FROM (SELECT * FROM staged_report_checked OFFSET 0) AS k  -- each row checked once
    CROSS JOIN LATERAL (
        SELECT CASE WHEN k.well_formed THEN (k.amount::numeric * 100)::bigint END AS amount_paise,
               CASE WHEN k.well_formed THEN (k.fee::numeric * 100)::bigint END AS fee_paise,
               CASE WHEN k.well_formed THEN (k.igst::numeric * 100)::bigint END AS igst_paise,
               CASE WHEN k.well_formed THEN (k.cgst::numeric * 100)::bigint END AS cgst_paise,
               CASE WHEN k.well_formed THEN (k.sgst::numeric * 100)::bigint END AS sgst_paise
    ) AS a
) AS p;
