"""notifications: deliveries per event, recipient and channel, preferences; the outbox row is routed once

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01 14:56:25.687298
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notification_preferences",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("category", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "category IN ('payments', 'orders', 'payouts', 'refunds', 'referrals', 'statements')",
            name=op.f("ck_notification_preferences_category"),
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'in_app', 'sms', 'push')", name=op.f("ck_notification_preferences_channel")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_notification_preferences_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "category", "channel", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "notification_deliveries",
        sa.Column("delivery_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("notification_id", sa.BigInteger(), nullable=False),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("channel", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("critical", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("lease_token", sa.UUID(as_uuid=False), nullable=True),
        sa.Column("lease_expires_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("template", sa.Text(), nullable=True),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("message_id", sa.Text(), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_attempt_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("sent_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("read_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'sending') = (lease_token IS NOT NULL AND lease_expires_at IS NOT NULL)",
            name=op.f("ck_notification_deliveries_lease"),
        ),
        sa.CheckConstraint(
            "(status = 'sent') = (sent_at IS NOT NULL)", name=op.f("ck_notification_deliveries_sent_at")
        ),
        sa.CheckConstraint(
            "channel IN ('email', 'in_app', 'sms', 'push')", name=op.f("ck_notification_deliveries_channel")
        ),
        sa.CheckConstraint(
            "read_at IS NULL OR (channel = 'in_app' AND status = 'sent')",
            name=op.f("ck_notification_deliveries_read_in_app"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'failed', 'undelivered', 'suppressed')",
            name=op.f("ck_notification_deliveries_status"),
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_notification_deliveries_attempts")),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.notification_id"],
            name=op.f("fk_notification_deliveries_notification_id_notifications"),
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_notification_deliveries")),
        sa.UniqueConstraint(
            "notification_id",
            "recipient",
            "channel",
            name=op.f("uq_notification_deliveries_notification_id_recipient_channel"),
        ),
    )
    op.create_index(
        op.f("ix_notification_deliveries_lease_expires_at"),
        "notification_deliveries",
        ["lease_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_index(
        op.f("ix_notification_deliveries_next_attempt_at"),
        "notification_deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.create_index(
        op.f("ix_notification_deliveries_recipient_delivery_id"),
        "notification_deliveries",
        ["recipient", "delivery_id"],
        unique=False,
        postgresql_where=sa.text("channel = 'in_app' AND status = 'sent'"),
    )
    op.add_column("notifications", sa.Column("routed_at", postgresql.TIMESTAMP(timezone=True), nullable=True))
    op.drop_index(op.f("ix_notifications_status_next_attempt_at"), table_name="notifications")
    op.create_index(
        op.f("ix_notifications_notification_id"),
        "notifications",
        ["notification_id"],
        unique=False,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.drop_column("notifications", "last_error")
    op.drop_column("notifications", "read")
    op.drop_column("notifications", "attempts")
    op.drop_column("notifications", "sent_at")
    op.drop_column("notifications", "next_attempt_at")
    op.drop_constraint(op.f("ck_notifications_status"), "notifications", type_="check")
    op.execute("UPDATE notifications SET status = 'pending' WHERE status <> 'pending'")
    op.create_check_constraint(op.f("ck_notifications_status"), "notifications", "status IN ('pending', 'routed')")
    op.create_check_constraint(
        op.f("ck_notifications_routed_at"), "notifications", "(status = 'routed') = (routed_at IS NOT NULL)"
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_notifications_routed_at"), "notifications", type_="check")
    op.drop_constraint(op.f("ck_notifications_status"), "notifications", type_="check")
    op.execute("UPDATE notifications SET status = 'pending'")
    op.create_check_constraint(
        op.f("ck_notifications_status"), "notifications", "status IN ('pending', 'sent', 'failed', 'skipped')"
    )
    op.add_column(
        "notifications",
        sa.Column(
            "next_attempt_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            autoincrement=False,
            nullable=False,
        ),
    )
    op.add_column(
        "notifications", sa.Column("sent_at", postgresql.TIMESTAMP(timezone=True), autoincrement=False, nullable=True)
    )
    op.add_column(
        "notifications",
        sa.Column("attempts", sa.INTEGER(), server_default=sa.text("0"), autoincrement=False, nullable=False),
    )
    op.add_column(
        "notifications",
        sa.Column("read", sa.BOOLEAN(), server_default=sa.text("false"), autoincrement=False, nullable=False),
    )
    op.add_column("notifications", sa.Column("last_error", sa.TEXT(), autoincrement=False, nullable=True))
    op.drop_index(
        op.f("ix_notifications_notification_id"),
        table_name="notifications",
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        op.f("ix_notifications_status_next_attempt_at"), "notifications", ["status", "next_attempt_at"], unique=False
    )
    op.drop_column("notifications", "routed_at")
    op.drop_index(
        op.f("ix_notification_deliveries_recipient_delivery_id"),
        table_name="notification_deliveries",
        postgresql_where=sa.text("channel = 'in_app' AND status = 'sent'"),
    )
    op.drop_index(
        op.f("ix_notification_deliveries_next_attempt_at"),
        table_name="notification_deliveries",
        postgresql_where=sa.text("status IN ('pending', 'failed')"),
    )
    op.drop_index(
        op.f("ix_notification_deliveries_lease_expires_at"),
        table_name="notification_deliveries",
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.drop_table("notification_deliveries")
    op.drop_table("notification_preferences")
