-- The lines of entries built in Python, in the shape of pending_postings: the source ledger/post.sql
-- reads instead of the staging table when `post_entry` posts (domain.ledger.posting), so one entry is
-- one statement. One array element per line, the entry's header repeated; a NULL occurred_at is now().
-- Like ledger/stage.sql, it takes the ledger-close lock shared before any entry id is drawn, for the
-- rest of the transaction (domain.ledger.closing).
SELECT CAST(NULL AS bigint) AS entry_id, key AS idempotency_key, entry_type, description,
       coalesce(occurred_at, now()) AS occurred_at, reference_id, account_id, amount AS amount_paise
FROM unnest(CAST(:keys AS text[]), CAST(:entry_types AS text[]), CAST(:descriptions AS text[]),
            CAST(:occurred_ats AS timestamptz[]), CAST(:reference_ids AS text[]), CAST(:account_ids AS text[]),
            CAST(:amounts AS bigint[]))
    AS line (key, entry_type, description, occurred_at, reference_id, account_id, amount)
CROSS JOIN (SELECT pg_advisory_xact_lock_shared(hashtext('ledger_close'))) AS close_lock
