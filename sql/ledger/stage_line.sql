-- Stage one line of an entry for ledger/post.sql (the Python path; set-based writers stage with
-- INSERT ... SELECT of their own).
INSERT INTO pending_postings
    (idempotency_key, entry_type, description, occurred_at, reference_id, account_id, amount_paise)
VALUES (:key, :entry_type, :description, coalesce(:occurred_at, now()), :reference_id, :account_id, :amount)
