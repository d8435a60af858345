-- Open (or see again) an exception for every break among one report version's items. The id is
-- derived from the day, class and reference, so a re-run, or the day's next report version, finds
-- the same break as the same row; its figures follow the latest report. Returns every break,
-- `new` for those first seen now.
-- :report_id  bigint;  :day  date;  :now  timestamptz;  :break_classes  text[]
WITH breaks AS (
    SELECT i.*, row_number() OVER (PARTITION BY i.class, i.payment_type, i.reference_id ORDER BY i.item_no)
               AS occurrence
    FROM recon_items i
    WHERE i.report_id = :report_id AND i.class = ANY (CAST(:break_classes AS text[]))
),
upserted AS (
    INSERT INTO recon_exceptions AS x (exception_id, report_date, class, payment_type, reference_id, report_id, line,
                                       expected_paise, reported_paise, first_seen_at, last_seen_at)
    SELECT recon_exception_id(:day, b.class, b.payment_type, b.reference_id, CAST(b.occurrence AS integer)), :day,
           b.class, b.payment_type, b.reference_id, :report_id, b.line,
           b.expected_amount_paise - b.expected_charges_paise, b.reported_paise, :now, :now
    FROM breaks b
    ON CONFLICT (exception_id) DO UPDATE
        SET report_id = excluded.report_id, line = excluded.line, expected_paise = excluded.expected_paise,
            reported_paise = excluded.reported_paise, last_seen_at = excluded.last_seen_at
    RETURNING x.exception_id, x.class AS klass, x.reported_paise - x.expected_paise AS difference_paise,
              x.xmax = 0 AS new  -- inserted now, not seen again
)
SELECT exception_id, klass, difference_paise, new FROM upserted
