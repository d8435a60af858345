-- Every fee schedule version with the [effective_from, effective_to) IST days it is in effect: the one
-- "schedule in effect on day D" of set-based SQL (domain.fees.schedule.in_effect is its Python twin).
CREATE OR REPLACE VIEW fee_schedule_periods AS
SELECT fee_schedule_id, effective_from,
       lead(effective_from, 1, 'infinity'::date) OVER (ORDER BY effective_from) AS effective_to,
       platform_fee_bps, gateway_fee_bps, scout_bounty_paise, min_payout_paise, hold_days, gateway_gst_bps
FROM fee_schedules;
