"""Payouts, the items each covers, their gateway attempts, scout withdrawal requests and payee holds."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, ForeignKey, Index, Integer, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

from domain.platform.tables import created_at_column, in_values, metadata

PAYEE_TYPES = ("seller", "scout")

PAYOUT_STATUSES = ("pending", "processing", "completed", "failed", "cancelled", "reversed")

PAYOUT_ITEM_TYPES = ("settlement_line", "bounty", "clawback", "adjustment")

PAYOUT_ATTEMPT_OUTCOMES = ("accepted", "retriable", "rejected", "unknown", "found", "not_found")

PAYOUT_REQUEST_STATUSES = ("requested", "scheduled", "rejected", "cancelled")

payouts = Table(
    "payouts",
    metadata,
    Column("payout_id", Text, primary_key=True),
    Column("payee_type", Text, nullable=False),
    Column("payee_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("batch_date", Date, nullable=False),
    Column("retry_of_payout_id", Text, ForeignKey("payouts.payout_id")),
    Column("destination", JSONB, nullable=False),
    Column("attempt_count", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("gateway_payout_id", Text, unique=True),
    Column("gateway_status", Text),
    Column("gateway_response", JSONB),
    Column("utr", Text),
    Column("failure_reason", Text),
    created_at_column(),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("submitted_at", TIMESTAMP(timezone=True)),
    Column("processed_at", TIMESTAMP(timezone=True)),
    Column("failed_at", TIMESTAMP(timezone=True)),
    Column("cancelled_at", TIMESTAMP(timezone=True)),
    Column("reversed_at", TIMESTAMP(timezone=True)),
    CheckConstraint(in_values("payee_type", PAYEE_TYPES), name="payee_type"),
    CheckConstraint(in_values("status", PAYOUT_STATUSES), name="status"),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("attempt_count >= 0", name="attempt_count"),
    CheckConstraint("retry_of_payout_id IS NULL OR retry_of_payout_id <> payout_id", name="not_own_retry"),
    Index(
        "uq_payouts_payee_batch_date",
        "payee_type",
        "payee_id",
        "batch_date",
        unique=True,
        postgresql_where=text("retry_of_payout_id IS NULL"),
    ),
    Index(None, "status", "next_attempt_at"),
    Index(None, "payee_id", "created_at"),
    Index(None, "batch_date", "status"),
)

payout_items = Table(
    "payout_items",
    metadata,
    Column("payout_item_id", BigInteger, primary_key=True, autoincrement=True),
    Column("payout_id", Text, ForeignKey("payouts.payout_id"), nullable=False),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.entry_id"), nullable=False),
    Column("item_type", Text, nullable=False),
    Column("order_id", Text, ForeignKey("orders.order_id")),
    Column("bounty_id", BigInteger, ForeignKey("bounties.bounty_id")),
    Column("refund_id", Text),
    Column("amount_paise", BigInteger, nullable=False),
    Column("released_at", TIMESTAMP(timezone=True)),
    created_at_column(),
    CheckConstraint(in_values("item_type", PAYOUT_ITEM_TYPES), name="item_type"),
    CheckConstraint("amount_paise <> 0", name="amount_paise_nonzero"),
    Index(None, "payout_id"),
    Index(None, "entry_id"),
    Index(None, "order_id"),
)

payout_attempts = Table(
    "payout_attempts",
    metadata,
    Column("payout_attempt_id", BigInteger, primary_key=True, autoincrement=True),
    Column("payout_id", Text, ForeignKey("payouts.payout_id"), nullable=False),
    Column("attempt_number", Integer, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("outcome", Text),
    Column("http_status", Integer),
    Column("gateway_error_code", Text),
    Column("gateway_payout_id", Text),
    Column("response", JSONB),
    Column("error", Text),
    Column("started_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("answered_at", TIMESTAMP(timezone=True)),
    CheckConstraint(in_values("outcome", PAYOUT_ATTEMPT_OUTCOMES), name="outcome"),
    CheckConstraint("attempt_number >= 1", name="attempt_number"),
    Index("uq_payout_attempts_payout_id_attempt_number", "payout_id", "attempt_number", unique=True),
    Index(None, "started_at"),
)

scout_payout_requests = Table(
    "scout_payout_requests",
    metadata,
    Column("scout_payout_request_id", Text, primary_key=True),
    Column("scout_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default="requested"),
    Column("payout_id", Text, ForeignKey("payouts.payout_id")),
    Column("reason", Text),
    created_at_column(),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(in_values("status", PAYOUT_REQUEST_STATUSES), name="status"),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("(status = 'scheduled') = (payout_id IS NOT NULL)", name="scheduled_has_payout"),
    Index(None, "scout_id", "status"),
    Index(None, "payout_id"),
)

payee_holds = Table(
    "payee_holds",
    metadata,
    Column("payee_hold_id", BigInteger, primary_key=True, autoincrement=True),
    Column("payee_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("held_by", Text, nullable=False),
    created_at_column(),
    Column("released_at", TIMESTAMP(timezone=True)),
    Column("released_by", Text),
    Index("uq_payee_holds_active_payee_id", "payee_id", unique=True, postgresql_where=text("released_at IS NULL")),
)
