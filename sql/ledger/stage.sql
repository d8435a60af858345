-- The staging table of the one posting path: a writer inserts the lines of the entries it wants
-- posted (one row per line, the entry's header repeated), then runs ledger/post.sql. Temporary,
-- so concurrent writers never see each other's rows; emptied by post.sql and at every commit.
-- `entry_id` may be drawn by the writer (nextval of journal_entries' sequence) when subledger rows
-- written in the same statement must name their entry; otherwise post.sql draws it.
-- Every posting transaction holds the ledger-close lock shared, so a close (which takes it
-- exclusively for a moment, domain.ledger.closing) sees only committed entries below its mark.
DO $$
BEGIN
    PERFORM pg_advisory_xact_lock_shared(hashtext('ledger_close'));
    IF to_regclass('pg_temp.pending_postings') IS NULL THEN
        CREATE TEMP TABLE pending_postings (
            entry_id        bigint,
            idempotency_key text NOT NULL,
            entry_type      text NOT NULL,
            description     text NOT NULL DEFAULT '',
            occurred_at     timestamptz NOT NULL DEFAULT now(),
            reference_id    text,
            account_id      text NOT NULL,
            amount_paise    bigint NOT NULL
        ) ON COMMIT DELETE ROWS;
    END IF;
END $$;
