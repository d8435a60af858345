"""user fixes and idempotent creation: users, withdrawal requests and order events keep the claim of their
Idempotency-Key (api key, key, request hash, first answer) on the row; order events are recorded; a
payout destination stored as JSON null (a registration without one) becomes SQL NULL, and only an
object may be stored

Independent of the fee tables of 0013, after which it runs.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 15:12:05.878913
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Registrations without a destination stored JSON null, which the payout batch took for a destination.
    op.execute("UPDATE users SET payout_destination = NULL WHERE payout_destination = 'null'::jsonb")
    op.create_check_constraint(
        op.f("ck_users_payout_destination_object"),
        "users",
        "payout_destination IS NULL OR jsonb_typeof(payout_destination) = 'object'",
    )
    op.create_table(
        "order_events",
        sa.Column("order_event_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("previous_status", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("request_hash", sa.Text(), nullable=True),
        sa.Column("first_response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("event IN ('delivered', 'cancelled')", name=op.f("ck_order_events_event")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_order_events_order_id_orders")),
        sa.PrimaryKeyConstraint("order_event_id", name=op.f("pk_order_events")),
    )
    op.create_index(
        op.f("ix_order_events_api_key_id_idempotency_key"),
        "order_events",
        ["api_key_id", "idempotency_key"],
        unique=True,
    )
    op.create_index(op.f("ix_order_events_order_id"), "order_events", ["order_id"], unique=False)
    op.add_column("scout_payout_requests", sa.Column("api_key_id", sa.BigInteger(), nullable=True))
    op.add_column("scout_payout_requests", sa.Column("idempotency_key", sa.Text(), nullable=True))
    op.add_column("scout_payout_requests", sa.Column("request_hash", sa.Text(), nullable=True))
    op.add_column(
        "scout_payout_requests", sa.Column("first_response", postgresql.JSONB(astext_type=sa.Text()), nullable=True)
    )
    op.create_index(
        op.f("ix_scout_payout_requests_api_key_id_idempotency_key"),
        "scout_payout_requests",
        ["api_key_id", "idempotency_key"],
        unique=True,
    )
    op.add_column("users", sa.Column("api_key_id", sa.BigInteger(), nullable=True))
    op.add_column("users", sa.Column("idempotency_key", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("request_hash", sa.Text(), nullable=True))
    op.add_column("users", sa.Column("first_response", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.create_index(
        op.f("ix_users_api_key_id_idempotency_key"), "users", ["api_key_id", "idempotency_key"], unique=True
    )


def downgrade() -> None:
    op.drop_constraint(op.f("ck_users_payout_destination_object"), "users", type_="check")
    op.drop_index(op.f("ix_users_api_key_id_idempotency_key"), table_name="users")
    op.drop_column("users", "first_response")
    op.drop_column("users", "request_hash")
    op.drop_column("users", "idempotency_key")
    op.drop_column("users", "api_key_id")
    op.drop_index(op.f("ix_scout_payout_requests_api_key_id_idempotency_key"), table_name="scout_payout_requests")
    op.drop_column("scout_payout_requests", "first_response")
    op.drop_column("scout_payout_requests", "request_hash")
    op.drop_column("scout_payout_requests", "idempotency_key")
    op.drop_column("scout_payout_requests", "api_key_id")
    op.drop_index(op.f("ix_order_events_order_id"), table_name="order_events")
    op.drop_index(op.f("ix_order_events_api_key_id_idempotency_key"), table_name="order_events")
    op.drop_table("order_events")
