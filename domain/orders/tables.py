"""Orders as the ingest API records them.

The API owns the stored statuses (`RECORDED_STATUSES`). What follows is derived from the subledger,
never written order by order: `settled` once a settlement row exists, `partially_refunded` and
`refunded` from completed refunds (`sql/objects/order_states.sql`); `ORDER_STATUSES` are all that an
order can show.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Table, Text, func
from sqlalchemy.dialects.postgresql import TIMESTAMP

from domain.platform.tables import created_at_column, in_values, metadata

RECORDED_STATUSES = ("created", "paid", "payment_failed", "delivered", "cancelled")
DERIVED_STATUSES = ("settled", "partially_refunded", "refunded")
ORDER_STATUSES = (*RECORDED_STATUSES, *DERIVED_STATUSES)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("buyer_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("seller_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("listing_id", Text, nullable=False),
    Column("title", Text),
    Column("amount_paise", BigInteger, nullable=False),
    Column("currency", Text, nullable=False, server_default="INR"),
    Column("status", Text, nullable=False, server_default="created"),
    Column("gateway_order_id", Text),
    Column("gateway_transaction_id", Text),
    Column("payment_mode", Text),
    Column("paid_at", TIMESTAMP(timezone=True)),
    Column("delivered_at", TIMESTAMP(timezone=True)),
    Column("cancelled_at", TIMESTAMP(timezone=True)),
    Column("payment_failed_at", TIMESTAMP(timezone=True)),
    created_at_column(),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    # The API key that created the order and its Idempotency-Key, on the order row itself, so creation
    # is one INSERT. No foreign key on api_key_id: keys are never deleted (only revoked), and the FK
    # check would lock the one hot api_keys row on every order.
    Column("api_key_id", BigInteger),
    Column("idempotency_key", Text),
    Column("request_hash", Text),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("currency = 'INR'", name="currency_inr"),
    CheckConstraint(in_values("status", RECORDED_STATUSES), name="status"),
    CheckConstraint("buyer_id <> seller_id", name="buyer_is_not_seller"),
    Index(None, "seller_id", "created_at"),
    Index(None, "buyer_id", "created_at"),
    Index(None, "status", "created_at"),
    Index(None, "paid_at"),
    Index(None, "delivered_at"),
    Index(None, "payment_failed_at"),
    Index(None, "created_at", "order_id"),
    Index(None, "api_key_id", "idempotency_key", unique=True),
)
