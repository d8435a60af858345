"""Refunds: the requests and their lifecycle, the gateway attempts, the immutable subledger row of each
completed refund, and payments that arrived for orders that can no longer be paid.

A refund's id is its PhonePe `merchantRefundId` (36 characters), written with the request, so every
create and status call for one refund names the same refund at the gateway.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, ForeignKey, Index, Integer, Table, Text, func, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TIMESTAMP

from domain.platform.idempotency import claim_columns, claim_index
from domain.platform.tables import created_at_column, in_values, metadata
from domain.refunds.rules import AUTOMATIC_REASONS, REASONS, REFUND_STATUSES

REFUND_KINDS = ("order", "stray")
REFUND_ATTEMPT_OUTCOMES = ("accepted", "retriable", "rejected", "unknown", "found", "not_found")
STRAY_STATUSES = ("reported", "refunding", "not_completed", "paid_order", "expired")

refunds = Table(
    "refunds",
    metadata,
    Column("refund_id", Text, primary_key=True),
    Column("order_id", Text, ForeignKey("orders.order_id"), nullable=False),
    Column("kind", Text, nullable=False, server_default="order"),
    Column("buyer_id", Text, nullable=False),
    Column("seller_id", Text, nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("note", Text),
    Column("status", Text, nullable=False),
    Column("approval_reasons", ARRAY(Text), nullable=False, server_default="{}"),
    Column("requested_by", Text, nullable=False),
    Column("decided_by", Text),
    Column("decision_note", Text),
    Column("retry_of_refund_id", Text, ForeignKey("refunds.refund_id"), unique=True),
    Column("attempt_count", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TIMESTAMP(timezone=True)),
    Column("next_check_at", TIMESTAMP(timezone=True)),
    Column("status_checks", Integer, nullable=False, server_default="0"),
    Column("gateway_refund_id", Text),
    Column("gateway_state", Text),
    Column("gateway_response", JSONB),
    Column("failure_reason", Text),
    Column("stuck_alerted_at", TIMESTAMP(timezone=True)),
    *claim_columns(),
    created_at_column(),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_at", TIMESTAMP(timezone=True)),
    Column("submitted_at", TIMESTAMP(timezone=True)),
    Column("completed_at", TIMESTAMP(timezone=True)),
    Column("failed_at", TIMESTAMP(timezone=True)),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint(in_values("kind", REFUND_KINDS), name="kind"),
    CheckConstraint(in_values("status", REFUND_STATUSES), name="status"),
    CheckConstraint(in_values("reason", REASONS + AUTOMATIC_REASONS), name="reason"),
    CheckConstraint("char_length(refund_id) <= 63", name="merchant_refund_id_length"),
    CheckConstraint("retry_of_refund_id IS NULL OR retry_of_refund_id <> refund_id", name="not_own_retry"),
    CheckConstraint("(status = 'completed') = (completed_at IS NOT NULL)", name="completed_has_time"),
    Index(None, "order_id"),
    Index(None, "completed_at"),
    Index(None, "failed_at"),
    Index("ix_refunds_due", "next_attempt_at", postgresql_where=text("status = 'approved'")),
    Index("ix_refunds_submitted", "next_check_at", postgresql_where=text("status = 'submitted'")),
    Index(None, "status", "refund_id"),
    claim_index(),
)

refund_attempts = Table(
    "refund_attempts",
    metadata,
    Column("refund_attempt_id", BigInteger, primary_key=True, autoincrement=True),
    Column("refund_id", Text, ForeignKey("refunds.refund_id"), nullable=False),
    Column("attempt_number", Integer, nullable=False),
    Column("outcome", Text),
    Column("http_status", Integer),
    Column("gateway_error_code", Text),
    Column("gateway_refund_id", Text),
    Column("response", JSONB),
    Column("error", Text),
    Column("started_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("answered_at", TIMESTAMP(timezone=True)),
    CheckConstraint(in_values("outcome", REFUND_ATTEMPT_OUTCOMES), name="outcome"),
    CheckConstraint("attempt_number >= 1", name="attempt_number"),
    Index("uq_refund_attempts_refund_id_attempt_number", "refund_id", "attempt_number", unique=True),
)

order_refunds = Table(
    "order_refunds",
    metadata,
    Column("refund_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("seller_id", Text, nullable=False),
    Column("completed_date", Date, nullable=False),
    Column("refund_paise", BigInteger, nullable=False),
    Column("platform_fee_reversed_paise", BigInteger, nullable=False),
    Column("seller_debit_paise", BigInteger, nullable=False),
    Column("entry_id", BigInteger, nullable=False),
    created_at_column(),
    CheckConstraint("refund_paise > 0", name="refund_paise_positive"),
    CheckConstraint("platform_fee_reversed_paise >= 0 AND seller_debit_paise >= 0", name="parts_not_negative"),
    CheckConstraint("refund_paise >= platform_fee_reversed_paise + seller_debit_paise", name="parts_within_refund"),
    CheckConstraint(
        "kind = 'stray' OR refund_paise = platform_fee_reversed_paise + seller_debit_paise", name="parts_add_up"
    ),
    Index(None, "order_id"),
    Index(None, "completed_date", "seller_id"),
)

stray_payments = Table(
    "stray_payments",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id"), primary_key=True),
    Column("webhook_event_id", BigInteger, nullable=False),
    Column("reported_amount_paise", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default="reported"),
    Column("checks", Integer, nullable=False, server_default="0"),
    Column("next_check_at", TIMESTAMP(timezone=True), server_default=func.now()),
    Column("gateway_amount_paise", BigInteger),
    Column("gateway_fee_paise", BigInteger),
    Column("entry_id", BigInteger),
    Column("refund_id", Text, ForeignKey("refunds.refund_id")),
    Column("reported_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("resolved_at", TIMESTAMP(timezone=True)),
    CheckConstraint(in_values("status", STRAY_STATUSES), name="status"),
    CheckConstraint("(status = 'refunding') = (refund_id IS NOT NULL)", name="refunding_has_refund"),
    Index("ix_stray_payments_due", "next_check_at", postgresql_where=text("status = 'reported'")),
    Index(None, "resolved_at"),
)
