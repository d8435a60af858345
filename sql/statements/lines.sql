-- One payee's statement over the IST days [:period_start, :period_end): its balance before the period
-- and at its end, and every movement of its payable account in the period as statement lines, each
-- traceable to its source by joins through the subledger (domain.statements.rules explains the kinds).
-- Amounts are what the platform owes the payee: the payable account's lines with their sign reversed.
--
-- An entry belongs to the IST day of its `occurred_at`, the ledger's own time: a night's capture and
-- bounty entries to the partition day (posted at its last microsecond), a payout's or refund's to when
-- it was posted. A capture entry is one line per order (its `captures` rows, found through the
-- capture day and seller index), a refund entry one line (its `order_refunds` row, a `clawback` when
-- the order's earnings had already gone out in a payout), a bounty entry its `bounties` row, a payout
-- entry the payout with the payee items it covers. An entry of any other type (or one whose subledger
-- rows are missing) is one `adjustment` line of its whole amount, so the lines always sum to the
-- ledger's movement; domain.statements.rules.reconcile checks that they do.
--
-- Always at least one row, carrying the balances; line columns are NULL when the period has none.
-- Reads the payee's own lines only (index on ledger_lines (account_id, entry_id)), never the ledger.
-- :account_id    text, the payee's payable account
-- :payee_id      text
-- :period_start  timestamptz, the first day's start (IST)
-- :period_end    timestamptz, the day after the last day's start (IST)
-- :max_rows      integer, the most rows to return
WITH moves AS MATERIALIZED (
    SELECT e.entry_id, e.idempotency_key, e.entry_type, e.reference_id, e.occurred_at, e.created_at,
           -sum(l.amount_paise) AS amount_paise
    FROM ledger_lines l
    JOIN journal_entries e ON e.entry_id = l.entry_id
    WHERE l.account_id = :account_id
    GROUP BY e.entry_id
),
balances AS (
    SELECT coalesce(sum(amount_paise) FILTER (WHERE occurred_at < :period_start), 0)::bigint AS opening_paise,
           coalesce(sum(amount_paise) FILTER (WHERE occurred_at < :period_end), 0)::bigint AS closing_paise
    FROM moves
),
period AS (
    SELECT m.*, (m.occurred_at AT TIME ZONE 'Asia/Kolkata')::date AS entry_date FROM moves m
    WHERE m.occurred_at >= :period_start AND m.occurred_at < :period_end
),
expanded AS (
    SELECT p.entry_id, p.idempotency_key AS entry_key, p.entry_date, p.occurred_at,
           CASE WHEN c.order_id IS NOT NULL THEN 'order'
                WHEN r.refund_id IS NOT NULL AND paid_out.before_refund THEN 'clawback'
                WHEN r.refund_id IS NOT NULL THEN 'refund'
                WHEN b.bounty_id IS NOT NULL THEN 'bounty'
                WHEN o.payout_id IS NOT NULL AND p.entry_type = 'payout_sent' THEN 'payout'
                WHEN o.payout_id IS NOT NULL THEN p.entry_type
                ELSE 'adjustment' END AS kind,
           coalesce(c.order_id, r.order_id, b.order_id) AS order_id, r.refund_id, o.payout_id, b.bounty_id,
           b.recruit_id, c.gross_paise, c.platform_fee_paise, c.gateway_fee_paise, r.refund_paise,
           r.platform_fee_reversed_paise, o.status AS payout_status, o.utr, o.retry_of_payout_id, covered.items,
           CASE WHEN c.order_id IS NOT NULL THEN c.seller_net_paise
                WHEN r.refund_id IS NOT NULL THEN -r.seller_debit_paise
                ELSE p.amount_paise END AS amount_paise
    FROM period p
    LEFT JOIN captures c
      ON p.entry_type = 'payment_captured' AND c.capture_date = p.entry_date AND c.seller_id = :payee_id
     AND c.entry_id = p.entry_id
    LEFT JOIN order_refunds r
      ON p.entry_type = 'refund_completed' AND r.refund_id = p.reference_id AND r.entry_id = p.entry_id
    LEFT JOIN bounties b
      ON p.entry_type = 'bounty_earned' AND b.recruit_id = p.reference_id AND b.scout_id = :payee_id
    LEFT JOIN payouts o
      ON p.entry_type IN ('payout_sent', 'payout_failed', 'payout_cancelled', 'payout_reversed')
     AND o.payout_id = p.reference_id AND o.payee_id = :payee_id
    LEFT JOIN LATERAL (  -- the order's settlement was in a payout sent, and not returned, before the refund
        SELECT true AS before_refund
        FROM settlements s
        JOIN payee_items i ON i.item_key = s.payee_item_key
        JOIN payout_items pi ON pi.payee_item_id = i.payee_item_id
        JOIN journal_entries sent ON sent.idempotency_key = entry_key('payout', pi.payout_id, 'sent')
        WHERE s.order_id = r.order_id AND sent.created_at < p.created_at
          AND (pi.released_at IS NULL OR pi.released_at > p.created_at)
        LIMIT 1
    ) AS paid_out ON r.refund_id IS NOT NULL
    LEFT JOIN LATERAL (
        SELECT jsonb_agg(jsonb_build_object('payee_item_id', i.payee_item_id, 'item_key', i.item_key,
                                            'item_type', i.item_type, 'item_date', i.item_date,
                                            'amount_paise', pi.amount_paise, 'refund_id', i.refund_id,
                                            'bounty_id', i.bounty_id)
                         ORDER BY pi.payout_item_id) AS items
        FROM payout_items pi JOIN payee_items i ON i.payee_item_id = pi.payee_item_id
        WHERE pi.payout_id = o.payout_id
    ) AS covered ON o.payout_id IS NOT NULL
)
SELECT b.opening_paise, b.closing_paise, x.entry_id, x.entry_key, x.entry_date, x.kind, x.order_id, x.refund_id,
       x.payout_id, x.bounty_id, x.recruit_id, x.gross_paise, x.platform_fee_paise, x.gateway_fee_paise,
       x.refund_paise, x.platform_fee_reversed_paise, x.payout_status, x.utr, x.retry_of_payout_id, x.items,
       x.amount_paise,
       b.opening_paise + sum(x.amount_paise) OVER (ORDER BY x.occurred_at, x.entry_id, x.order_id NULLS FIRST
                                                   ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
           AS balance_paise
FROM balances b
LEFT JOIN expanded x ON true
ORDER BY x.occurred_at, x.entry_id, x.order_id NULLS FIRST
LIMIT :max_rows
