"""Payouts and what they pay: payee items (what a payee is owed, one row per settlement group,
bounty, clawback or adjustment, with how much live payouts cover), the payout items that cover them,
gateway attempts, scout withdrawal requests and payee holds.

Open items (not fully covered) are found by a partial index, so a payout batch reads what is owed
now, never the payee's whole history.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, ForeignKey, Index, Integer, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

from domain.platform.idempotency import claim_columns, claim_index
from domain.platform.tables import created_at_column, in_values, metadata

PAYEE_TYPES = ("seller", "scout")

PAYOUT_STATUSES = ("pending", "processing", "completed", "failed", "cancelled", "reversed")

PAYEE_ITEM_TYPES = ("settlement", "bounty", "clawback", "adjustment")

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

payee_items = Table(
    "payee_items",
    metadata,
    Column("payee_item_id", BigInteger, primary_key=True, autoincrement=True),
    Column("item_key", Text, nullable=False, unique=True),
    Column("item_type", Text, nullable=False),
    Column("payee_type", Text, nullable=False),
    Column("payee_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("covered_paise", BigInteger, nullable=False, server_default="0"),
    Column("item_date", Date, nullable=False),
    Column("entry_id", BigInteger),
    Column("bounty_id", BigInteger, ForeignKey("bounties.bounty_id")),
    Column("refund_id", Text),
    created_at_column(),
    CheckConstraint(in_values("item_type", PAYEE_ITEM_TYPES), name="item_type"),
    CheckConstraint(in_values("payee_type", PAYEE_TYPES), name="payee_type"),
    CheckConstraint("amount_paise <> 0", name="amount_paise_nonzero"),
    CheckConstraint(
        "(amount_paise > 0 AND covered_paise BETWEEN 0 AND amount_paise) "
        "OR (amount_paise < 0 AND covered_paise BETWEEN amount_paise AND 0)",
        name="covered_within_amount",
    ),
    Index("ix_payee_items_open", "payee_id", postgresql_where=text("covered_paise <> amount_paise")),
    Index(None, "item_date"),
)

payout_items = Table(
    "payout_items",
    metadata,
    Column("payout_item_id", BigInteger, primary_key=True, autoincrement=True),
    Column("payout_id", Text, ForeignKey("payouts.payout_id"), nullable=False),
    Column("payee_item_id", BigInteger, ForeignKey("payee_items.payee_item_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("released_at", TIMESTAMP(timezone=True)),
    created_at_column(),
    CheckConstraint("amount_paise <> 0", name="amount_paise_nonzero"),
    Index(None, "payout_id"),
    Index(None, "payee_item_id"),
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
    *claim_columns(),
    CheckConstraint(in_values("status", PAYOUT_REQUEST_STATUSES), name="status"),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("(status = 'scheduled') = (payout_id IS NOT NULL)", name="scheduled_has_payout"),
    Index(None, "scout_id", "status"),
    Index(None, "payout_id"),
    claim_index(),
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
