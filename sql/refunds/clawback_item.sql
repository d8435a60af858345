-- The seller's clawback item of a completed refund: what the seller gives back, as a negative payee
-- item that the next payouts net (domain.refunds.store.complete).
-- :refund_id, :seller_id  text;  :debit_paise  bigint (> 0);  :day  date;  :entry_id  bigint
INSERT INTO payee_items (item_key, item_type, payee_type, payee_id, amount_paise, item_date, entry_id, refund_id)
VALUES ('refund:' || :refund_id, 'clawback', 'seller', :seller_id, -CAST(:debit_paise AS bigint), :day, :entry_id,
        :refund_id)
