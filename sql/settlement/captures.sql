-- Capture the day's confirmed payments: one subledger row per order (gross, fees and net under the
-- fee schedule in effect on its IST payment day) and one general-ledger entry per seller, staged in
-- pending_postings under the entry id the rows name (ledger/post.sql then writes it).
--
-- Due: every payment confirmed since the day began (the confirmation sensor records `confirmed_at`
-- as it confirms, through the day) whose order was paid before the day's end and has no capture yet.
-- A payment confirmed after its day's run is captured by a later day's run, under that day's key.
-- The entry key is capture:<day>:<seller>, or capture:<day>:<seller>:<n> for the n-th batch of a
-- seller-day posted again later (a re-run after a late confirmation); runs of one day are serialised
-- by domain.settlement.store, so a key is always new.
-- :day        date, the partition day
-- :day_start  timestamptz
-- :day_end    timestamptz
WITH due AS (
    SELECT o.order_id, o.seller_id, o.paid_at, o.amount_paise AS gross_paise, s.fee_schedule_id,
           bps_of(o.amount_paise, s.gateway_fee_bps) AS gateway_fee_paise,
           -- domain.money.fee_breakdown: the platform fee gives way if two roundings exceed the gross.
           least(bps_of(o.amount_paise, s.platform_fee_bps),
                 o.amount_paise - bps_of(o.amount_paise, s.gateway_fee_bps)) AS platform_fee_paise
    FROM payment_confirmations c
    JOIN orders o ON o.order_id = c.order_id
    JOIN fee_schedule_periods s
      ON (o.paid_at AT TIME ZONE 'Asia/Kolkata')::date >= s.effective_from
     AND (o.paid_at AT TIME ZONE 'Asia/Kolkata')::date < s.effective_to
    WHERE c.confirmed AND c.confirmed_at >= :day_start
      AND o.paid_at < :day_end AND o.status IN ('paid', 'delivered')
      AND NOT EXISTS (SELECT 1 FROM captures k WHERE k.order_id = o.order_id)
),
sellers AS (
    SELECT d.seller_id, nextval(pg_get_serial_sequence('journal_entries', 'entry_id')) AS entry_id,
           (SELECT count(DISTINCT k.entry_id) FROM captures k
            WHERE k.capture_date = :day AND k.seller_id = d.seller_id) AS earlier_batches,
           sum(d.gross_paise - d.gateway_fee_paise) AS clearing_paise,
           sum(d.gross_paise - d.gateway_fee_paise - d.platform_fee_paise) AS seller_net_paise,
           sum(d.platform_fee_paise) AS platform_fee_paise
    FROM due d GROUP BY d.seller_id
),
recorded AS (
    INSERT INTO captures (order_id, capture_date, seller_id, paid_at, gross_paise, platform_fee_paise,
                          gateway_fee_paise, seller_net_paise, fee_schedule_id, entry_id)
    SELECT d.order_id, :day, d.seller_id, d.paid_at, d.gross_paise, d.platform_fee_paise, d.gateway_fee_paise,
           d.gross_paise - d.platform_fee_paise - d.gateway_fee_paise, d.fee_schedule_id, s.entry_id
    FROM due d JOIN sellers s ON s.seller_id = d.seller_id
),
staged AS (
    INSERT INTO pending_postings (entry_id, idempotency_key, entry_type, description, occurred_at, reference_id,
                                  account_id, amount_paise)
    SELECT s.entry_id,
           CASE WHEN s.earlier_batches = 0 THEN entry_key('capture', CAST(:day AS text), s.seller_id)
                ELSE entry_key('capture', CAST(:day AS text), s.seller_id, (s.earlier_batches + 1)::text) END,
           'payment_captured', 'payments captured', CAST(:day_end AS timestamptz) - interval '1 microsecond',
           s.seller_id, line.account_id, line.amount_paise
    FROM sellers s
    CROSS JOIN LATERAL (
        VALUES ('gateway_clearing', s.clearing_paise),
               (payable_account('seller', s.seller_id), -s.seller_net_paise),
               ('platform_revenue', -s.platform_fee_paise)
    ) AS line (account_id, amount_paise)
    WHERE line.amount_paise <> 0
)
SELECT (SELECT count(*) FROM due) AS captured, (SELECT coalesce(sum(gross_paise), 0) FROM due) AS gross_paise,
       (SELECT count(*) FROM sellers) AS entries
