-- The one posting path: every staged entry (pending_postings, see ledger/stage.sql) is written in
-- this one statement: missing accounts, the entries whose keys are new, and their non-zero lines,
-- so the statement-level balance trigger checks each entry whole. A key already posted writes
-- nothing; its existing entry id is returned with created = false, and the caller decides whether
-- its lines must match. The staged rows are consumed. `post_entry` runs this same statement with
-- the `staged` rows read from ledger/entry_lines.sql instead of the staging table.
WITH staged AS (
    DELETE FROM pending_postings RETURNING *
),
accounts AS (
    INSERT INTO ledger_accounts (account_id, account_type, payee_id)
    SELECT DISTINCT account_id, account_type_of(account_id), account_payee(account_id) FROM staged
    ORDER BY account_id
    ON CONFLICT (account_id) DO NOTHING
),
headers AS (
    SELECT DISTINCT ON (idempotency_key) entry_id, idempotency_key, entry_type, description, occurred_at,
           reference_id
    FROM staged ORDER BY idempotency_key
),
entries AS (
    INSERT INTO journal_entries (entry_id, idempotency_key, entry_type, description, occurred_at, reference_id)
    SELECT coalesce(entry_id, nextval(pg_get_serial_sequence('journal_entries', 'entry_id'))), idempotency_key,
           entry_type, description, occurred_at, reference_id
    FROM headers
    ORDER BY idempotency_key
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING entry_id, idempotency_key
),
lines AS (
    INSERT INTO ledger_lines (entry_id, account_id, amount_paise)
    SELECT e.entry_id, s.account_id, s.amount_paise
    FROM entries e JOIN staged s ON s.idempotency_key = e.idempotency_key
    WHERE s.amount_paise <> 0
)
SELECT h.idempotency_key,
       coalesce(e.entry_id, (SELECT j.entry_id FROM journal_entries j WHERE j.idempotency_key = h.idempotency_key))
           AS entry_id,
       e.entry_id IS NOT NULL AS created
FROM headers h
LEFT JOIN entries e ON e.idempotency_key = h.idempotency_key
