-- Earn scout bounties: a recruit (as buyer or seller) whose first settled order settled this day
-- earns their recruiter the bounty of the fee schedule that order was paid under, if the recruiter is
-- an active scout and not the recruit. Once per recruit, ever (unique recruit_id, entry key
-- bounty:<recruit_id>, item key bounty:<recruit_id>); a later refund does not take it back.
-- Driven by the recruits still without a bounty (never by the day's orders), each looked up through
-- its own orders. Stages the entries and outbox rows; ledger/post.sql and outbox/write.sql write them.
-- :day      date, the partition day
-- :day_end  timestamptz, when the bounty is booked
WITH recruits AS MATERIALIZED (
    SELECT u.user_id, u.recruiter_id FROM users u
    WHERE u.recruiter_id IS NOT NULL AND u.recruiter_id <> u.user_id
      AND NOT EXISTS (SELECT 1 FROM bounties b WHERE b.recruit_id = u.user_id)
),
firsts AS (
    SELECT r.user_id AS recruit_id, r.recruiter_id AS scout_id, f.order_id, f.fee_schedule_id
    FROM recruits r
    CROSS JOIN LATERAL (
        SELECT s.order_id, s.settlement_date, c.fee_schedule_id
        FROM orders o
        JOIN settlements s ON s.order_id = o.order_id
        JOIN captures c ON c.order_id = o.order_id
        WHERE (o.buyer_id = r.user_id OR o.seller_id = r.user_id) AND s.settlement_date <= :day
        ORDER BY s.settlement_date, o.paid_at, o.order_id
        LIMIT 1
    ) AS f
    WHERE f.settlement_date = :day
),
earned AS (
    SELECT f.recruit_id, f.scout_id, f.order_id, f.fee_schedule_id, fs.scout_bounty_paise AS amount_paise
    FROM firsts f
    JOIN users scout ON scout.user_id = f.scout_id AND scout.role = 'scout' AND scout.status = 'active'
    JOIN fee_schedules fs ON fs.fee_schedule_id = f.fee_schedule_id
    WHERE fs.scout_bounty_paise > 0
),
inserted AS (
    INSERT INTO bounties (recruit_id, scout_id, order_id, amount_paise, fee_schedule_id, earned_date)
    SELECT recruit_id, scout_id, order_id, amount_paise, fee_schedule_id, :day FROM earned
    ON CONFLICT (recruit_id) DO NOTHING
    RETURNING bounty_id, recruit_id, scout_id, order_id, amount_paise
),
numbered AS (
    SELECT i.*, nextval(pg_get_serial_sequence('journal_entries', 'entry_id')) AS entry_id FROM inserted i
),
postings AS (
    INSERT INTO pending_postings (entry_id, idempotency_key, entry_type, description, occurred_at, reference_id,
                                  account_id, amount_paise)
    SELECT n.entry_id, entry_key('bounty', n.recruit_id), 'bounty_earned', 'scout bounty earned',
           CAST(:day_end AS timestamptz) - interval '1 microsecond', n.recruit_id, line.account_id, line.amount_paise
    FROM numbered n
    CROSS JOIN LATERAL (
        VALUES ('bounty_expense', n.amount_paise), (payable_account('scout', n.scout_id), -n.amount_paise)
    ) AS line (account_id, amount_paise)
),
items AS (
    INSERT INTO payee_items (item_key, item_type, payee_type, payee_id, amount_paise, item_date, entry_id, bounty_id)
    SELECT entry_key('bounty', recruit_id), 'bounty', 'scout', scout_id, amount_paise, :day, entry_id, bounty_id
    FROM numbered
),
outbox AS (
    INSERT INTO pending_outbox (dedupe_key, event_type, audience, user_id, payload)
    SELECT 'bounty:' || recruit_id, 'scout_bounty_earned', 'user', scout_id,
           jsonb_build_object('recruit_id', recruit_id, 'order_id', order_id, 'amount_paise', amount_paise)
    FROM numbered
)
SELECT count(*) AS bounties, coalesce(sum(amount_paise), 0) AS amount_paise FROM numbered
