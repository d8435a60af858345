-- Post the capture entry of DESIGN.md §4 for every confirmed payment up to the end of the day that
-- has none yet. One statement: accounts, entries (idempotent on capture:<order_id>) and lines.
-- :day_end  timestamptz, exclusive end of the partition day (Asia/Kolkata)
WITH due AS (
    SELECT f.order_id, f.seller_id, f.gross_paise, f.platform_fee_paise, f.gateway_fee_paise,
           f.seller_net_paise, o.paid_at
    FROM orders o
    JOIN payment_confirmations c ON c.order_id = o.order_id AND c.confirmed
    JOIN order_fees f ON f.order_id = o.order_id
    WHERE o.paid_at < :day_end
      AND o.status IN ('paid', 'delivered', 'settled', 'partially_refunded', 'refunded')
      AND NOT EXISTS (SELECT 1 FROM journal_entries j WHERE j.idempotency_key = 'capture:' || o.order_id)
),
accounts AS (
    INSERT INTO ledger_accounts (account_id, account_type, payee_id)
    SELECT DISTINCT 'seller_payable:' || seller_id, 'seller_payable', seller_id FROM due
    UNION ALL SELECT 'gateway_clearing', 'gateway_clearing', NULL
    UNION ALL SELECT 'platform_revenue', 'platform_revenue', NULL
    ON CONFLICT (account_id) DO NOTHING
),
entries AS (
    INSERT INTO journal_entries (idempotency_key, entry_type, description, occurred_at, reference_id)
    SELECT 'capture:' || order_id, 'payment_captured', 'payment captured', paid_at, order_id FROM due
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING entry_id, reference_id
),
lines AS (
    INSERT INTO ledger_lines (entry_id, account_id, amount_paise)
    SELECT e.entry_id, line.account_id, line.amount_paise
    FROM entries e
    JOIN due d ON d.order_id = e.reference_id
    CROSS JOIN LATERAL (
        VALUES ('gateway_clearing', d.gross_paise - d.gateway_fee_paise),
               ('seller_payable:' || d.seller_id, -d.seller_net_paise),
               ('platform_revenue', -d.platform_fee_paise)
    ) AS line (account_id, amount_paise)
    WHERE line.amount_paise <> 0
)
SELECT count(*) AS captured, coalesce(sum(d.gross_paise), 0) AS gross_paise
FROM entries e JOIN due d ON d.order_id = e.reference_id
