-- Create the day's payout batch in one statement: one payout per payee who may be paid, the items it
-- covers, the scout requests it fulfils, and its staged `payout sent` entry, which ledger/post.sql
-- writes in the same transaction (the money leaves the payable balance at once, so it can never be
-- paid twice). Run under the payout creation advisory lock.
-- Sellers are paid their whole available balance once it reaches the minimum payout (a negative
-- balance from a clawback is carried and netted); scouts are paid what they asked for, if available.
-- Payees without a destination, not active, or on hold are left out (see payouts/held_back.sql).
-- With :settled_funds_only (PAYOUT_REQUIRES_SETTLED_FUNDS) a seller's settlement item is payable only
-- once the gateway's report lists every one of its payments for its full amount: we never pay out
-- money the gateway has not paid us.
-- :day  date, the batch (partition) day;  :settled_funds_only  boolean
WITH schedule AS (
    SELECT min_payout_paise FROM fee_schedule_periods WHERE :day >= effective_from AND :day < effective_to
),
open_items AS (  -- what is owed and not yet covered by a live payout, read through the open-items index
    SELECT i.payee_item_id, i.payee_type, i.payee_id, i.item_date, i.amount_paise - i.covered_paise AS uncovered_paise
    FROM payee_items i WHERE i.covered_paise <> i.amount_paise
      AND (NOT :settled_funds_only OR i.item_type <> 'settlement' OR funds_settled(i.item_key, i.item_date, i.payee_id))
),
payable_users AS (
    SELECT u.user_id, u.payout_destination FROM users u
    WHERE u.user_id IN (SELECT payee_id FROM open_items)
      AND u.role IN ('seller', 'scout') AND u.status = 'active' AND u.payout_destination IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM payee_holds h WHERE h.payee_id = u.user_id AND h.released_at IS NULL)
),
available AS (
    SELECT i.payee_type, i.payee_id, sum(i.uncovered_paise) AS amount_paise
    FROM open_items i JOIN payable_users p ON p.user_id = i.payee_id GROUP BY i.payee_type, i.payee_id
),
requested AS (
    SELECT scout_id, sum(amount_paise) AS amount_paise FROM scout_payout_requests
    WHERE status = 'requested' GROUP BY scout_id
),
due AS (
    SELECT a.payee_type, a.payee_id, a.amount_paise FROM available a CROSS JOIN schedule s
    WHERE a.payee_type = 'seller' AND a.amount_paise >= s.min_payout_paise
    UNION ALL
    SELECT 'scout', r.scout_id, r.amount_paise FROM requested r
    JOIN available a ON a.payee_type = 'scout' AND a.payee_id = r.scout_id
    WHERE r.amount_paise <= a.amount_paise
),
created AS (
    INSERT INTO payouts (payout_id, payee_type, payee_id, amount_paise, batch_date, destination)
    SELECT 'pay_' || lpad(to_hex((extract(epoch FROM clock_timestamp()) * 1000)::bigint), 12, '0')
                  || substr(replace(gen_random_uuid()::text, '-', ''), 1, 20),
           d.payee_type, d.payee_id, d.amount_paise, :day, p.payout_destination
    FROM due d JOIN payable_users p ON p.user_id = d.payee_id
    ON CONFLICT (payee_type, payee_id, batch_date) WHERE retry_of_payout_id IS NULL DO NOTHING
    RETURNING payout_id, payee_type, payee_id, amount_paise
),
scout_allocation AS (  -- a withdrawal covers the oldest bounties first, the last one possibly in part
    SELECT i.*, sum(i.uncovered_paise) OVER (PARTITION BY i.payee_id ORDER BY i.item_date, i.payee_item_id)
                - i.uncovered_paise AS before_paise
    FROM open_items i WHERE i.payee_type = 'scout'
),
covering AS (
    SELECT c.payout_id, i.payee_item_id, i.uncovered_paise AS amount_paise
    FROM created c JOIN open_items i ON i.payee_type = 'seller' AND i.payee_id = c.payee_id
    WHERE c.payee_type = 'seller'
    UNION ALL
    SELECT c.payout_id, a.payee_item_id, least(a.uncovered_paise, c.amount_paise - a.before_paise)
    FROM created c JOIN scout_allocation a ON a.payee_id = c.payee_id
    WHERE c.payee_type = 'scout' AND a.before_paise < c.amount_paise
),
items AS (
    INSERT INTO payout_items (payout_id, payee_item_id, amount_paise)
    SELECT payout_id, payee_item_id, amount_paise FROM covering
),
covered AS (
    UPDATE payee_items i SET covered_paise = i.covered_paise + c.amount_paise
    FROM covering c WHERE c.payee_item_id = i.payee_item_id
),
postings AS (
    INSERT INTO pending_postings (idempotency_key, entry_type, description, reference_id, account_id, amount_paise)
    SELECT entry_key('payout', c.payout_id, 'sent'), 'payout_sent', 'payout created', c.payout_id,
           line.account_id, line.amount_paise
    FROM created c
    CROSS JOIN LATERAL (
        VALUES (payable_account(c.payee_type, c.payee_id), c.amount_paise), ('payouts_in_transit', -c.amount_paise)
    ) AS line (account_id, amount_paise)
),
fulfilled AS (
    UPDATE scout_payout_requests r SET status = 'scheduled', payout_id = c.payout_id, updated_at = now()
    FROM created c
    WHERE c.payee_type = 'scout' AND r.scout_id = c.payee_id AND r.status = 'requested'
)
SELECT count(*) AS payouts, coalesce(sum(amount_paise), 0) AS amount_paise FROM created
