-- The function behind the fee schedule's triggers (the triggers are in migration 0013): a version in
-- effect (effective_from on or before today in IST) is never updated or deleted, and no version is
-- added, or moved, to take effect today or earlier. The one exception is the first seed
-- (domain.fees.schedule.seed_fee_schedule): dated 2000-01-01, into an empty table. A version still in
-- the future may be updated or deleted: nothing has been captured, settled or paid under it.
CREATE OR REPLACE FUNCTION fee_schedule_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'Asia/Kolkata')::date;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM fee_schedules WHERE effective_from <= today) THEN
            RAISE EXCEPTION 'fee_schedules holds versions in effect: TRUNCATE refused'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.effective_from <= today THEN
        RAISE EXCEPTION 'fee schedule % is in effect since %: % refused; add a version effective from a later date',
            OLD.fee_schedule_id, OLD.effective_from, TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.effective_from <= today
       AND NOT (TG_OP = 'INSERT' AND NEW.effective_from = DATE '2000-01-01'
                AND NOT EXISTS (SELECT 1 FROM fee_schedules)) THEN
        RAISE EXCEPTION 'a fee schedule version must take effect after today (% IST): % effective from % refused',
            today, TG_OP, NEW.effective_from USING ERRCODE = 'check_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
