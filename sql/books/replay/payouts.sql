-- The entries of every payout's lifecycle, derived from the payout as recorded (its payee, amount and
-- the status its gateway outcomes moved it to), as domain.payouts.store posts them one step at a time
-- with the builders of domain.ledger.entries: `sent` when created, then `completed`, `failed`,
-- `cancelled` or `reversed` (a reversed payout completed first, domain.payouts.rules.path_to).
-- Staged for ledger/post.sql.
INSERT INTO pending_postings (idempotency_key, entry_type, reference_id, account_id, amount_paise)
SELECT entry_key('payout', p.payout_id, s.step), 'payout_' || s.step, p.payout_id, line.account_id, line.amount_paise
FROM payouts p
CROSS JOIN LATERAL (
    VALUES ('sent', true, payable_account(p.payee_type, p.payee_id), 'payouts_in_transit'),
           ('completed', p.status IN ('completed', 'reversed'), 'payouts_in_transit', 'bank'),
           ('failed', p.status = 'failed', 'payouts_in_transit', payable_account(p.payee_type, p.payee_id)),
           ('cancelled', p.status = 'cancelled', 'payouts_in_transit', payable_account(p.payee_type, p.payee_id)),
           ('reversed', p.status = 'reversed', 'bank', payable_account(p.payee_type, p.payee_id))
) AS s (step, taken, debit_account, credit_account)
CROSS JOIN LATERAL (
    VALUES (s.debit_account, p.amount_paise), (s.credit_account, -p.amount_paise)
) AS line (account_id, amount_paise)
WHERE s.taken
