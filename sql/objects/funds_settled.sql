-- Whether the gateway has paid us for every order of a seller's settlement item: each one's payment
-- is listed in a settlement report for the order's full gross (PAYOUT_REQUIRES_SETTLED_FUNDS). The
-- item's orders are found through the settlements' (day, seller) index, the report rows by reference.
CREATE OR REPLACE FUNCTION funds_settled(item_key text, item_date date, seller_id text) RETURNS boolean
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN NOT EXISTS (
        SELECT 1 FROM settlements s JOIN captures c ON c.order_id = s.order_id
        WHERE s.settlement_date = item_date AND s.seller_id = funds_settled.seller_id
          AND s.payee_item_key = funds_settled.item_key
          AND NOT EXISTS (SELECT 1 FROM gateway_report_rows g
                          WHERE g.payment_type = 'PAYMENT' AND g.merchant_reference_id = s.order_id
                            AND g.amount_paise = c.gross_paise)
    );
