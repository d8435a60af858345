"""`create_orders()`: the order inserts of concurrent `POST /v1/orders` requests, as one statement.

Replaces `create_order()` (migration 0005), which inserted one order per call. Each API worker now
hands the orders that arrive while its earlier inserts run to one call (`ingest_api.order_batches`),
so one round trip, one plan and one commit serve them all. The rules per order are unchanged: an
order exists only if both parties are active in their roles, and only once per (API key,
Idempotency-Key); the rows it inserted are returned, and the caller tells a replay from an invalid
party for the others. Rows are inserted in the order given, which the caller sorts by that pair, so
two batches claiming the same keys wait for each other instead of deadlocking.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

import importlib
from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE_ORDERS = """
CREATE FUNCTION create_orders(
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
"""


def upgrade() -> None:
    op.execute(CREATE_ORDERS)
    op.execute("DROP FUNCTION create_order(text, text, text, text, text, bigint, timestamptz, bigint, text, text)")


def downgrade() -> None:
    previous = importlib.import_module("migrations.versions.20261126_0005_create_order_function")
    op.execute(previous.CREATE_ORDER)
    op.execute(
        "DROP FUNCTION create_orders(text[], text[], text[], text[], text[], bigint[], timestamptz[], bigint[], "
        "text[], text[])"
    )
