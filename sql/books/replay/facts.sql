-- One side's books as facts to compare: one row per entry, entry line (per account), account balance
-- and subledger row, keyed by what names it in any run (idempotency keys, order, refund and recruit
-- ids, item keys), never by the ids a run draws; a row naming an entry names it by its key.
-- Written with unqualified names and run twice by domain.books.replay: with the replay's scratch
-- tables first in the search path (side 'replay'), then with the live ones first (side 'live').
-- :side            text
-- :excluded_types  text[], the entry types the replay does not derive (not compared)
WITH keys AS (
    SELECT entry_id, idempotency_key FROM journal_entries
),
entries AS (
    SELECT entry_id, idempotency_key, entry_type, reference_id FROM journal_entries
    WHERE entry_type <> ALL (CAST(:excluded_types AS text[]))
),
lines AS (
    SELECT e.idempotency_key, l.account_id, sum(l.amount_paise) AS amount_paise
    FROM entries e JOIN ledger_lines l ON l.entry_id = e.entry_id
    GROUP BY e.idempotency_key, l.account_id
)
INSERT INTO replay_facts (side, kind, id, facts)
SELECT :side, 'entry', idempotency_key, jsonb_build_object('entry_type', entry_type, 'reference_id', reference_id)
FROM entries
UNION ALL
SELECT :side, 'line', idempotency_key || ' ' || account_id, jsonb_build_object('amount_paise', amount_paise)
FROM lines
UNION ALL
SELECT :side, 'balance', account_id, jsonb_build_object('balance_paise', sum(amount_paise))
FROM lines GROUP BY account_id
UNION ALL
SELECT :side, 'capture', c.order_id,
       jsonb_build_object('capture_date', c.capture_date, 'seller_id', c.seller_id, 'paid_at', c.paid_at,
                          'gross_paise', c.gross_paise, 'platform_fee_paise', c.platform_fee_paise,
                          'gateway_fee_paise', c.gateway_fee_paise, 'seller_net_paise', c.seller_net_paise,
                          'fee_schedule_id', c.fee_schedule_id, 'entry', k.idempotency_key)
FROM captures c LEFT JOIN keys k ON k.entry_id = c.entry_id
UNION ALL
SELECT :side, 'settlement', order_id,
       jsonb_build_object('settlement_date', settlement_date, 'seller_id', seller_id, 'payee_item_key', payee_item_key)
FROM settlements
UNION ALL
SELECT :side, 'settlement_group', payee_item_key,
       jsonb_build_object('settlement_date', settlement_date, 'seller_id', seller_id, 'orders', orders,
                          'gross_paise', gross_paise, 'platform_fee_paise', platform_fee_paise,
                          'gateway_fee_paise', gateway_fee_paise, 'net_paise', net_paise)
FROM settlement_groups
UNION ALL
SELECT :side, 'bounty', recruit_id,
       jsonb_build_object('scout_id', scout_id, 'order_id', order_id, 'amount_paise', amount_paise,
                          'fee_schedule_id', fee_schedule_id, 'earned_date', earned_date)
FROM bounties
UNION ALL
SELECT :side, 'order_refund', r.refund_id,
       jsonb_build_object('order_id', r.order_id, 'kind', r.kind, 'seller_id', r.seller_id,
                          'completed_date', r.completed_date, 'refund_paise', r.refund_paise,
                          'platform_fee_reversed_paise', r.platform_fee_reversed_paise,
                          'seller_debit_paise', r.seller_debit_paise, 'entry', k.idempotency_key)
FROM order_refunds r LEFT JOIN keys k ON k.entry_id = r.entry_id
UNION ALL
SELECT :side, 'payee_item', i.item_key,
       jsonb_build_object('item_type', i.item_type, 'payee_type', i.payee_type, 'payee_id', i.payee_id,
                          'amount_paise', i.amount_paise, 'item_date', i.item_date, 'entry', k.idempotency_key,
                          'recruit_id', b.recruit_id, 'refund_id', i.refund_id)
FROM payee_items i
LEFT JOIN keys k ON k.entry_id = i.entry_id
LEFT JOIN bounties b ON b.bounty_id = i.bounty_id
