"""`create_order()`: the idempotent order insert of `POST /v1/orders`, as a PL/pgSQL function.

PL/pgSQL caches the plan of the statement inside it per session, so the hot path stops paying to
plan an INSERT ... SELECT with two EXISTS sub-queries on every request (psycopg2 has no server-side
prepared statements, and SQL PREPARE would not survive a transaction-pooling proxy). Measured: the
statement alone went from about 0.45 to about 0.75 of a plain INSERT's rate.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CREATE_ORDER = """
CREATE FUNCTION create_order(
    p_order_id text, p_buyer_id text, p_seller_id text, p_listing_id text, p_title text, p_amount_paise bigint,
    p_created_at timestamptz, p_api_key_id bigint, p_idempotency_key text, p_request_hash text
) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    created text;
BEGIN
    -- The order exists only if both parties are active in their roles, and only once per
    -- (API key, Idempotency-Key): NULL means "replay or invalid party", which the caller tells apart.
    INSERT INTO orders (order_id, buyer_id, seller_id, listing_id, title, amount_paise, currency, created_at,
                        updated_at, api_key_id, idempotency_key, request_hash)
    SELECT p_order_id, p_buyer_id, p_seller_id, p_listing_id, p_title, p_amount_paise, 'INR', p_created_at,
           p_created_at, p_api_key_id, p_idempotency_key, p_request_hash
    WHERE EXISTS (SELECT 1 FROM users WHERE user_id = p_buyer_id AND role = 'buyer' AND status = 'active')
      AND EXISTS (SELECT 1 FROM users WHERE user_id = p_seller_id AND role = 'seller' AND status = 'active')
    ON CONFLICT (api_key_id, idempotency_key) DO NOTHING
    RETURNING order_id INTO created;
    RETURN created;
END $$;
"""


def upgrade() -> None:
    op.execute(CREATE_ORDER)


def downgrade() -> None:
    op.execute("DROP FUNCTION create_order(text, text, text, text, text, bigint, timestamptz, bigint, text, text)")
