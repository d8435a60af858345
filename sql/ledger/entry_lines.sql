-- The lines of entries built in Python, in the shape of pending_postings: the source ledger/post.sql
-- reads instead of the staging table when `post_entry` posts (domain.ledger.posting), so one entry is
-- one statement. One array element per line, the entry's header repeated; a NULL occurred_at is now().
SELECT key AS idempotency_key, entry_type, description, coalesce(occurred_at, now()) AS occurred_at,
       reference_id, account_id, amount AS amount_paise
FROM unnest(CAST(:keys AS text[]), CAST(:entry_types AS text[]), CAST(:descriptions AS text[]),
            CAST(:occurred_ats AS timestamptz[]), CAST(:reference_ids AS text[]), CAST(:account_ids AS text[]),
            CAST(:amounts AS bigint[]))
    AS line (key, entry_type, description, occurred_at, reference_id, account_id, amount)
