"""Orders as the ingest API records them.

The API owns the stored statuses (`RECORDED_STATUSES`). What follows is derived from the subledger,
never written order by order: `settled` once a settlement row exists, `partially_refunded` and
`refunded` from completed refunds (`sql/objects/order_states.sql`); `ORDER_STATUSES` are all that an
order can show.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Table, Text, func
from sqlalchemy.dialects.postgresql import TIMESTAMP

from domain.orders.lifecycle import CLIENT_EVENTS
from domain.platform.idempotency import claim_columns, claim_index
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

order_events = Table(
    "order_events",
    metadata,
    # Each fulfilment event a client posted, with the status it found and the one it left (the same when
    # the event had already taken effect), and the claim of its Idempotency-Key.
    Column("order_event_id", BigInteger, primary_key=True, autoincrement=True),
    Column("order_id", Text, ForeignKey("orders.order_id"), nullable=False),
    Column("event", Text, nullable=False),
    Column("previous_status", Text, nullable=False),
    Column("status", Text, nullable=False),
    *claim_columns(),
    created_at_column(),
    CheckConstraint(in_values("event", tuple(CLIENT_EVENTS)), name="event"),
    Index(None, "order_id"),
    claim_index(),
)
