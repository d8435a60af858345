-- Every order's fee breakdown under the fee schedule in effect on its payment day (IST).
CREATE OR REPLACE VIEW order_fees AS
WITH schedules AS (
    SELECT fee_schedule_id, platform_fee_bps, gateway_fee_bps, hold_days, effective_from,
           lead(effective_from, 1, 'infinity'::date) OVER (ORDER BY effective_from) AS effective_to
    FROM fee_schedules
)
SELECT f.order_id, f.seller_id, f.gross_paise, f.platform_fee_paise, f.gateway_fee_paise,
       f.gross_paise - f.platform_fee_paise - f.gateway_fee_paise AS seller_net_paise,
       f.fee_schedule_id, f.hold_days
FROM (
    -- domain.money.fee_breakdown: the platform fee gives way if two roundings exceed the gross.
    SELECT o.order_id, o.seller_id, o.amount_paise AS gross_paise,
           LEAST(bps_of(o.amount_paise, s.platform_fee_bps),
                 o.amount_paise - bps_of(o.amount_paise, s.gateway_fee_bps)) AS platform_fee_paise,
           bps_of(o.amount_paise, s.gateway_fee_bps) AS gateway_fee_paise,
           s.fee_schedule_id, s.hold_days
    FROM orders o
    JOIN schedules s
      ON (o.paid_at AT TIME ZONE 'Asia/Kolkata')::date >= s.effective_from
     AND (o.paid_at AT TIME ZONE 'Asia/Kolkata')::date < s.effective_to
    WHERE o.paid_at IS NOT NULL
) AS f;
