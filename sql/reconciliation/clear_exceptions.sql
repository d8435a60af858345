-- Breaks of the day that the latest reconciliation no longer finds (a late row arrived, the gateway
-- corrected its report) resolve themselves, with the reconciliation as their actor. A batch's
-- transfer break is the bank's, not the report's: only finance resolves it.
-- :day  date;  :report_id  bigint;  :now  timestamptz;  :seen  text[], the breaks this reconciliation found
UPDATE recon_exceptions
SET status = 'resolved', resolution = 'cleared', resolved_by = 'reconciliation', resolved_at = :now,
    resolution_reason = 'not found by the reconciliation of report ' || CAST(:report_id AS text)
WHERE report_date = :day AND status = 'open' AND class <> 'batch_total_mismatch'
  AND NOT exception_id = ANY (CAST(:seen AS text[]))
RETURNING exception_id
