-- Earn scout bounties: a recruit (as buyer or seller) whose first settled order settled in this
-- batch earns their recruiter the bounty of the fee schedule that order was paid under, if the
-- recruiter is an active scout and not the recruit. Once per recruit, ever (unique recruit_id and
-- idempotency key bounty:<recruit_id>); a later refund does not take it back. Stages the entries
-- and outbox rows; ledger/post.sql and outbox/write.sql write them.
-- :day              date, the partition day
-- :day_end          timestamptz, when the bounty is booked
WITH participants AS (
    SELECT o.buyer_id AS recruit_id, sl.order_id, sl.fee_schedule_id, o.paid_at
    FROM settlement_lines sl JOIN orders o ON o.order_id = sl.order_id
    WHERE sl.settlement_date = :day
    UNION ALL
    SELECT sl.seller_id, sl.order_id, sl.fee_schedule_id, o.paid_at
    FROM settlement_lines sl JOIN orders o ON o.order_id = sl.order_id
    WHERE sl.settlement_date = :day
),
firsts AS (
    SELECT DISTINCT ON (p.recruit_id) p.recruit_id, p.order_id, p.fee_schedule_id
    FROM participants p
    JOIN users u ON u.user_id = p.recruit_id AND u.recruiter_id IS NOT NULL
    ORDER BY p.recruit_id, p.paid_at, p.order_id
),
earned AS (
    SELECT f.recruit_id, u.recruiter_id AS scout_id, f.order_id, f.fee_schedule_id,
           fs.scout_bounty_paise AS amount_paise
    FROM firsts f
    JOIN users u ON u.user_id = f.recruit_id
    JOIN users scout ON scout.user_id = u.recruiter_id AND scout.role = 'scout' AND scout.status = 'active'
    JOIN fee_schedules fs ON fs.fee_schedule_id = f.fee_schedule_id
    WHERE u.recruiter_id <> u.user_id
      AND fs.scout_bounty_paise > 0
      AND NOT EXISTS (SELECT 1 FROM bounties b WHERE b.recruit_id = f.recruit_id)
      AND NOT EXISTS (  -- an earlier settled order was the first one
          SELECT 1 FROM settlement_lines sl JOIN orders o ON o.order_id = sl.order_id
          WHERE (o.buyer_id = f.recruit_id OR o.seller_id = f.recruit_id)
            AND sl.settlement_date < :day
      )
),
inserted AS (
    INSERT INTO bounties (recruit_id, scout_id, order_id, amount_paise, fee_schedule_id, earned_date)
    SELECT recruit_id, scout_id, order_id, amount_paise, fee_schedule_id, :day FROM earned
    ON CONFLICT (recruit_id) DO NOTHING
    RETURNING recruit_id, scout_id, order_id, amount_paise
),
postings AS (
    INSERT INTO pending_postings (idempotency_key, entry_type, description, occurred_at, reference_id,
                                  account_id, amount_paise)
    SELECT entry_key('bounty', i.recruit_id), 'bounty_earned', 'scout bounty earned',
           :day_end - interval '1 microsecond', i.recruit_id, line.account_id, line.amount_paise
    FROM inserted i
    CROSS JOIN LATERAL (
        VALUES ('bounty_expense', i.amount_paise), (payable_account('scout', i.scout_id), -i.amount_paise)
    ) AS line (account_id, amount_paise)
),
outbox AS (
    INSERT INTO pending_outbox (dedupe_key, event_type, audience, user_id, payload)
    SELECT 'bounty:' || recruit_id, 'scout_bounty_earned', 'user', scout_id,
           jsonb_build_object('recruit_id', recruit_id, 'order_id', order_id, 'amount_paise', amount_paise)
    FROM inserted
)
SELECT count(*) AS bounties, coalesce(sum(amount_paise), 0) AS amount_paise FROM inserted
