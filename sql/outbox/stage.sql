-- The staging table of set-based outbox writers: a statement inserts the events it wants written
-- (one row per event and recipient), then runs outbox/write.sql, which checks each against the
-- event catalogue. Temporary and emptied at every commit, like ledger/stage.sql.
DO $$
BEGIN
    IF to_regclass('pg_temp.pending_outbox') IS NULL THEN
        CREATE TEMP TABLE pending_outbox (
            dedupe_key text NOT NULL,
            event_type text NOT NULL,
            audience   text NOT NULL,
            user_id    text,
            payload    jsonb NOT NULL
        ) ON COMMIT DELETE ROWS;
    END IF;
END $$;
