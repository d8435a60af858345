-- The demo day's refunds, oldest first, with what each completed one reversed and took from the seller.
SELECT r.kind, r.order_id, r.amount_paise, r.status, r.reason, r.failure_reason,
       coalesce(x.platform_fee_reversed_paise, 0) AS platform_fee_reversed_paise,
       coalesce(x.seller_debit_paise, 0) AS seller_debit_paise
FROM refunds r LEFT JOIN order_refunds x ON x.refund_id = r.refund_id
ORDER BY r.created_at, r.refund_id
