"""Deliveries of the outbox's events, one per event, recipient and channel, and users' preferences."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TIMESTAMP, UUID

from domain.platform.tables import created_at_column, in_values, metadata

DELIVERY_STATUSES = ("pending", "sending", "sent", "failed", "undelivered", "suppressed")

CHANNELS = ("email", "in_app", "sms", "push")

PREFERENCE_CATEGORIES = ("payments", "orders", "payouts", "refunds", "referrals", "statements")

notification_deliveries = Table(
    "notification_deliveries",
    metadata,
    Column("delivery_id", BigInteger, primary_key=True, autoincrement=True),
    Column("notification_id", BigInteger, ForeignKey("notifications.notification_id"), nullable=False),
    Column("recipient", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("address", Text),
    Column("critical", Boolean, nullable=False, server_default=text("false")),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("lease_token", UUID(as_uuid=False)),
    Column("lease_expires_at", TIMESTAMP(timezone=True)),
    Column("last_error", Text),
    Column("template", Text),
    Column("subject", Text),
    Column("body", Text),
    Column("message_id", Text),
    created_at_column(),
    Column("last_attempt_at", TIMESTAMP(timezone=True)),
    Column("sent_at", TIMESTAMP(timezone=True)),
    Column("read_at", TIMESTAMP(timezone=True)),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("notification_id", "recipient", "channel"),
    CheckConstraint(in_values("status", DELIVERY_STATUSES), name="status"),
    CheckConstraint(in_values("channel", CHANNELS), name="channel"),
    CheckConstraint("attempts >= 0", name="attempts"),
    CheckConstraint("(status = 'sending') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL)", name="lease"),
    CheckConstraint("(status = 'sent') = (sent_at IS NOT NULL)", name="sent_at"),
    CheckConstraint("read_at IS NULL OR (channel = 'in_app' AND status = 'sent')", name="read_in_app"),
    Index(None, "next_attempt_at", postgresql_where=text("status IN ('pending', 'failed')")),
    Index(None, "lease_expires_at", postgresql_where=text("status = 'sending'")),
    Index(None, "recipient", "delivery_id", postgresql_where=text("channel = 'in_app' AND status = 'sent'")),
)

notification_preferences = Table(
    "notification_preferences",
    metadata,
    Column("user_id", Text, ForeignKey("users.user_id"), primary_key=True),
    Column("category", Text, primary_key=True),
    Column("channel", Text, primary_key=True),
    Column("enabled", Boolean, nullable=False),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(in_values("category", PREFERENCE_CATEGORIES), name="category"),
    CheckConstraint(in_values("channel", CHANNELS), name="channel"),
)
