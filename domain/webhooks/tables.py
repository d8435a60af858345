"""Every inbound webhook attempt, accepted or rejected, with its raw body."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, LargeBinary, Table, Text, func, text
from sqlalchemy.dialects.postgresql import INET, JSONB, TIMESTAMP

from domain.platform.tables import metadata

webhook_events = Table(
    "webhook_events",
    metadata,
    Column("webhook_event_id", BigInteger, primary_key=True, autoincrement=True),
    Column("source", Text, nullable=False),
    Column("event_key", Text),
    Column("event_type", Text),
    Column("verdict", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("raw_body", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("source_address", INET),
    Column("received_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("processed_at", TIMESTAMP(timezone=True)),
    CheckConstraint("source IN ('phonepe', 'razorpayx')", name="source"),
    CheckConstraint("verdict IN ('accepted', 'rejected', 'duplicate', 'anomaly')", name="verdict"),
    Index(
        "uq_webhook_events_source_event_key_accepted",
        "source",
        "event_key",
        unique=True,
        postgresql_where=text("verdict IN ('accepted', 'anomaly')"),
    ),
    Index(None, "received_at"),
    Index(
        "ix_webhook_events_unprocessed",
        "source",
        "webhook_event_id",
        postgresql_where=text("processed_at IS NULL AND verdict = 'accepted'"),
    ),
)
