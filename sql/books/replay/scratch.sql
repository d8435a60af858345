-- The replay's scratch books (domain.books.replay). For every table the night's SQL and the posting
-- path write, a temporary table of the same name, columns, defaults, checks and unique indexes as the
-- live one, drawing its ids from sequences of its own. Temporary tables come first in name
-- resolution, so settlement/*.sql and ledger/post.sql, run unchanged, write here while they read the
-- raw tables (orders, users, fee schedules) in public.
-- Also: `payment_confirmations` as of the replayed run (the session setting `replay.as_of`), the
-- staging tables of ledger/stage.sql and outbox/stage.sql (same columns, but without the ledger-close
-- lock: the replay posts nothing live, so a close need not wait for it), and the facts compared.
-- Created in the replay's savepoint, which is rolled back: nothing of it outlives the verification.
DO $$
DECLARE
    shadowed text;
    serial_column text;
BEGIN
    FOREACH shadowed IN ARRAY ARRAY['ledger_accounts', 'journal_entries', 'ledger_lines', 'captures', 'settlements',
                                     'settlement_groups', 'bounties', 'payee_items', 'order_refunds'] LOOP
        EXECUTE format('CREATE TEMP TABLE %I (LIKE public.%I INCLUDING DEFAULTS INCLUDING CONSTRAINTS '
                       'INCLUDING INDEXES)', shadowed, shadowed);
        FOR serial_column IN
            SELECT column_name FROM information_schema.columns
            WHERE table_schema = 'public' AND table_name = shadowed
              AND pg_get_serial_sequence(format('public.%I', shadowed), column_name) IS NOT NULL
        LOOP
            EXECUTE format('CREATE TEMP SEQUENCE %I OWNED BY pg_temp.%I.%I',
                           shadowed || '_' || serial_column || '_seq', shadowed, serial_column);
            EXECUTE format('ALTER TABLE pg_temp.%I ALTER COLUMN %I SET DEFAULT nextval(%L::regclass)',
                           shadowed, serial_column, 'pg_temp.' || shadowed || '_' || serial_column || '_seq');
        END LOOP;
    END LOOP;
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
    IF to_regclass('pg_temp.pending_outbox') IS NULL THEN
        CREATE TEMP TABLE pending_outbox (
            dedupe_key text NOT NULL,
            event_type text NOT NULL,
            audience   text NOT NULL,
            user_id    text,
            payload    jsonb NOT NULL
        ) ON COMMIT DELETE ROWS;
    END IF;
    -- What the gateway had confirmed when the replayed run read it: confirmed_at is the database's
    -- time of recording (settlement/confirmations_record.sql).
    CREATE TEMP VIEW payment_confirmations AS
    SELECT * FROM public.payment_confirmations
    WHERE confirmed AND confirmed_at <= CAST(current_setting('replay.as_of') AS timestamptz);
    CREATE TEMP TABLE replay_facts (side text NOT NULL, kind text NOT NULL, id text NOT NULL, facts jsonb NOT NULL);
    CREATE TEMP TABLE replay_differences (
        kind   text NOT NULL,
        id     text NOT NULL,
        fields text[] NOT NULL,
        replay jsonb,
        live   jsonb
    );
END $$;
