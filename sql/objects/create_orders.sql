-- The order inserts of concurrent `POST /v1/orders` requests in one statement (ingest_api.order_batches).
-- An order exists only if both parties are active in their roles, and only once per (API key,
-- Idempotency-Key); the rows it inserted are returned, and the caller tells a replay from an invalid
-- party for the others. Rows are inserted in the order given, which the caller sorts by that pair, so
-- two batches claiming the same keys wait for each other instead of deadlocking.
CREATE OR REPLACE FUNCTION create_orders(
    p_order_ids text[], p_buyer_ids text[], p_seller_ids text[], p_listing_ids text[], p_titles text[],
    p_amounts_paise bigint[], p_created_at timestamptz[], p_api_key_ids bigint[], p_idempotency_keys text[],
    p_request_hashes text[]
) RETURNS SETOF text LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY
    WITH created AS (
        INSERT INTO orders (order_id, buyer_id, seller_id, listing_id, title, amount_paise, currency, created_at,
                            updated_at, api_key_id, idempotency_key, request_hash)
        SELECT o.order_id, o.buyer_id, o.seller_id, o.listing_id, o.title, o.amount_paise, 'INR', o.created_at,
               o.created_at, o.api_key_id, o.idempotency_key, o.request_hash
        FROM unnest(p_order_ids, p_buyer_ids, p_seller_ids, p_listing_ids, p_titles, p_amounts_paise, p_created_at,
                    p_api_key_ids, p_idempotency_keys, p_request_hashes) WITH ORDINALITY
             AS o(order_id, buyer_id, seller_id, listing_id, title, amount_paise, created_at, api_key_id,
                  idempotency_key, request_hash, position)
        WHERE EXISTS (SELECT 1 FROM users WHERE user_id = o.buyer_id AND role = 'buyer' AND status = 'active')
          AND EXISTS (SELECT 1 FROM users WHERE user_id = o.seller_id AND role = 'seller' AND status = 'active')
        ORDER BY o.position
        ON CONFLICT (api_key_id, idempotency_key) DO NOTHING
        RETURNING orders.order_id
    )
    SELECT created.order_id FROM created;
END $$;
