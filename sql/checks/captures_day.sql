-- The day's captures as one row of counts, each of which must be zero (the Great Expectations suite
-- `captures_expectations` checks them): aggregate SQL over the day's rows, nothing else travels.
-- :day  date
SELECT count(*) AS captured,
       count(*) FILTER (WHERE c.gross_paise IS NULL OR c.platform_fee_paise IS NULL OR c.gateway_fee_paise IS NULL
                          OR c.seller_net_paise IS NULL OR c.fee_schedule_id IS NULL OR c.seller_id IS NULL)
           AS missing_values,
       count(*) FILTER (WHERE c.gross_paise < 1) AS gross_not_positive,
       count(*) FILTER (WHERE c.platform_fee_paise < 0 OR c.gateway_fee_paise < 0 OR c.seller_net_paise < 0)
           AS negative_parts,
       count(*) FILTER (WHERE c.seller_net_paise <> c.gross_paise - c.platform_fee_paise - c.gateway_fee_paise)
           AS parts_not_adding_up,
       count(*) FILTER (WHERE f.fee_schedule_id IS NULL
                          OR c.gateway_fee_paise <> bps_of(c.gross_paise, f.gateway_fee_bps)
                          OR c.platform_fee_paise <> least(bps_of(c.gross_paise, f.platform_fee_bps),
                                                           c.gross_paise - c.gateway_fee_paise)) AS fees_off_schedule
FROM captures c LEFT JOIN fee_schedules f ON f.fee_schedule_id = c.fee_schedule_id
WHERE c.capture_date = :day
