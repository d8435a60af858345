"""The notifications outbox: one row per event and recipient, written in the transaction that caused it."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, ForeignKey, Index, Table, Text, text
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

from domain.platform.tables import created_at_column, in_values, metadata

NOTIFICATION_STATUSES = ("pending", "routed")
"""`pending` until the dispatcher has made its deliveries (`domain.notifications`), then `routed`."""

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", BigInteger, primary_key=True, autoincrement=True),
    Column("dedupe_key", Text, nullable=False, unique=True),
    Column("user_id", Text, ForeignKey("users.user_id")),
    Column("audience", Text, nullable=False, server_default="user"),
    Column("event_type", Text, nullable=False),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("status", Text, nullable=False, server_default="pending"),
    created_at_column(),
    Column("routed_at", TIMESTAMP(timezone=True)),
    CheckConstraint(in_values("status", NOTIFICATION_STATUSES), name="status"),
    CheckConstraint("audience IN ('user', 'finance')", name="audience"),
    CheckConstraint("(audience = 'user') = (user_id IS NOT NULL)", name="user_audience_has_user"),
    CheckConstraint("(status = 'routed') = (routed_at IS NOT NULL)", name="routed_at"),
    Index(None, "notification_id", postgresql_where=text("status = 'pending'")),
    Index(None, "user_id", "created_at"),
)
