"""Ingest API: order idempotency columns, shared rate-limit counters, the unfiltered listing index.

`rate_limit_counters` is UNLOGGED: it is rewritten constantly, and after a crash an empty table only
means one fresh rate-limit window, so it need not pay for WAL.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:42:15.508284
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("bucket", sa.Text(), nullable=False),
        sa.Column("window_started_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("hits >= 0", name=op.f("ck_rate_limit_counters_hits")),
        sa.PrimaryKeyConstraint("bucket", "window_started_at", name=op.f("pk_rate_limit_counters")),
    )
    op.execute("ALTER TABLE rate_limit_counters SET UNLOGGED")
    op.create_index(
        op.f("ix_rate_limit_counters_window_started_at"), "rate_limit_counters", ["window_started_at"], unique=False
    )
    op.create_index(op.f("ix_orders_created_at_order_id"), "orders", ["created_at", "order_id"], unique=False)
    op.add_column("orders", sa.Column("api_key_id", sa.BigInteger(), nullable=True))
    op.add_column("orders", sa.Column("idempotency_key", sa.Text(), nullable=True))
    op.add_column("orders", sa.Column("request_hash", sa.Text(), nullable=True))
    op.create_index(
        op.f("ix_orders_api_key_id_idempotency_key"), "orders", ["api_key_id", "idempotency_key"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_orders_api_key_id_idempotency_key"), table_name="orders")
    op.drop_column("orders", "request_hash")
    op.drop_column("orders", "idempotency_key")
    op.drop_column("orders", "api_key_id")
    op.drop_index(op.f("ix_orders_created_at_order_id"), table_name="orders")
    op.drop_index(op.f("ix_rate_limit_counters_window_started_at"), table_name="rate_limit_counters")
    op.drop_table("rate_limit_counters")
