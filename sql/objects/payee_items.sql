-- Every ledger movement on a payee's payable account other than the payouts themselves, with the part
-- no live payout covers yet. A capture counts (`eligible`) once its order has a settlement line (after
-- the hold period or delivery) or was refunded in full; bounties, clawbacks and adjustments count at
-- once. Available balance = sum of eligible uncovered amounts; the view is the one definition of it.
CREATE OR REPLACE VIEW payee_items AS
SELECT l.entry_id, j.entry_type,
       CASE j.entry_type WHEN 'payment_captured' THEN 'settlement_line' WHEN 'bounty_earned' THEN 'bounty'
                         WHEN 'refund_completed' THEN 'clawback' ELSE 'adjustment' END AS item_type,
       CASE a.account_type WHEN 'seller_payable' THEN 'seller' ELSE 'scout' END AS payee_type,
       a.payee_id,
       CASE WHEN j.entry_type = 'payment_captured' THEN j.reference_id END AS order_id,
       b.bounty_id,
       CASE WHEN j.entry_type = 'refund_completed' THEN j.reference_id END AS refund_id,
       -l.amount_paise AS amount_paise,
       coalesce(c.covered_paise, 0)::bigint AS covered_paise,
       (-l.amount_paise - coalesce(c.covered_paise, 0))::bigint AS uncovered_paise,
       (j.entry_type <> 'payment_captured'
        OR EXISTS (SELECT 1 FROM settlement_lines s WHERE s.order_id = j.reference_id)
        OR EXISTS (SELECT 1 FROM orders o WHERE o.order_id = j.reference_id AND o.status = 'refunded')) AS eligible,
       j.occurred_at
FROM ledger_lines l
JOIN ledger_accounts a ON a.account_id = l.account_id AND a.account_type IN ('seller_payable', 'scout_payable')
JOIN journal_entries j ON j.entry_id = l.entry_id
LEFT JOIN bounties b ON j.entry_type = 'bounty_earned' AND b.recruit_id = j.reference_id
LEFT JOIN LATERAL (
    SELECT sum(i.amount_paise) AS covered_paise FROM payout_items i
    WHERE i.entry_id = l.entry_id AND i.released_at IS NULL
) c ON true
WHERE j.entry_type NOT LIKE 'payout\_%';
