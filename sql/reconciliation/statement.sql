-- A report version's statement: the report's total, the day's books' total, and the difference
-- explained class by class; the residual (what no class explains) must be 0 paise. The two totals
-- are read from their own tables, not from the items, so an item lost or counted twice shows.
-- :report_id  bigint;  :day  date;  :day_start, :day_end  timestamptz;  :classes  text[]
WITH report AS (
    SELECT coalesce(sum(settled_paise), 0) AS total FROM gateway_report_rows WHERE report_id = :report_id
),
books AS (
    SELECT coalesce(sum(amount_paise - charges_paise), 0) AS total FROM (
        SELECT c.gross_paise AS amount_paise,
               c.gateway_fee_paise + bps_of(c.gateway_fee_paise, f.gateway_gst_bps) AS charges_paise
        FROM orders o
        JOIN captures c ON c.order_id = o.order_id
        JOIN fee_schedules f ON f.fee_schedule_id = c.fee_schedule_id
        WHERE o.paid_at >= :day_start AND o.paid_at < :day_end
        UNION ALL
        SELECT -x.refund_paise, 0 FROM order_refunds x WHERE x.completed_date = :day
    ) e
),
by_class AS (
    SELECT k.class, k.position, count(i.item_no) AS items, coalesce(sum(i.expected_paise), 0) AS expected_paise,
           coalesce(sum(i.reported_paise), 0) AS reported_paise
    FROM unnest(CAST(:classes AS text[])) WITH ORDINALITY AS k(class, position)
    LEFT JOIN recon_items i ON i.report_id = :report_id AND i.class = k.class
    GROUP BY k.class, k.position
)
SELECT c.class AS klass, c.items, c.expected_paise, c.reported_paise, c.reported_paise - c.expected_paise AS difference_paise,
       r.total AS report_total_paise, b.total AS books_total_paise,
       r.total - b.total - sum(c.reported_paise - c.expected_paise) OVER () AS residual_paise
FROM by_class c CROSS JOIN report r CROSS JOIN books b
ORDER BY c.position
