-- The staging table of the one posting path: a writer inserts the lines of the entries it wants
-- posted (one row per line, the entry's header repeated), then runs ledger/post.sql. Temporary,
-- so concurrent writers never see each other's rows; emptied by post.sql and at every commit.
DO $$
BEGIN
    IF to_regclass('pg_temp.pending_postings') IS NULL THEN
        CREATE TEMP TABLE pending_postings (
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
