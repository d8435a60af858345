"""Batched payouts: payouts, their items and gateway attempts, scout withdrawal requests, payee holds,
the `payee_items` view (what each payee is owed, entry by entry, and how much of it is still unpaid)
and `analytics.payout_health_daily`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 12:55:05.809564
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Every ledger movement on a payee's payable account other than the payouts themselves, with the part
# no live payout covers yet. A capture counts (`eligible`) once its order has a settlement line (after
# the hold period or delivery) or was refunded in full; bounties, clawbacks and adjustments count at
# once. Available balance = sum of eligible uncovered amounts; the view is the one definition of it.
PAYEE_ITEMS_VIEW = """
CREATE VIEW payee_items AS
SELECT l.entry_id, j.entry_type,
       CASE j.entry_type WHEN 'payment_captured' THEN 'settlement_line' WHEN 'bounty_earned' THEN 'bounty'
                         WHEN 'refund_completed' THEN 'clawback' ELSE 'adjustment' END AS item_type,
       CASE a.account_type WHEN 'seller_payable' THEN 'seller' ELSE 'scout' END AS payee_type,
       a.payee_id,
       CASE WHEN j.entry_type = 'payment_captured' THEN j.reference_id END AS order_id,
       b.bounty_id,
       CASE WHEN j.entry_type = 'refund_completed' THEN j.reference_id END AS refund_id,
       -l.amount_paise AS amount_paise,
       coalesce(c.covered_paise, 0)::bigint AS covered_paise,
       (-l.amount_paise - coalesce(c.covered_paise, 0))::bigint AS uncovered_paise,
       (j.entry_type <> 'payment_captured'
        OR EXISTS (SELECT 1 FROM settlement_lines s WHERE s.order_id = j.reference_id)
        OR EXISTS (SELECT 1 FROM orders o WHERE o.order_id = j.reference_id AND o.status = 'refunded')) AS eligible,
       j.occurred_at
FROM ledger_lines l
JOIN ledger_accounts a ON a.account_id = l.account_id AND a.account_type IN ('seller_payable', 'scout_payable')
JOIN journal_entries j ON j.entry_id = l.entry_id
LEFT JOIN bounties b ON j.entry_type = 'bounty_earned' AND b.recruit_id = j.reference_id
LEFT JOIN LATERAL (
    SELECT sum(i.amount_paise) AS covered_paise FROM payout_items i
    WHERE i.entry_id = l.entry_id AND i.released_at IS NULL
) c ON true
WHERE j.entry_type NOT LIKE 'payout\\_%';
"""


def upgrade() -> None:
    op.create_table(
        "payout_health_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("payee_type", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("failure_reason", sa.Text(), nullable=False),
        sa.Column("payouts", sa.BigInteger(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("day", "payee_type", "status", "failure_reason", name=op.f("pk_payout_health_daily")),
        schema="analytics",
    )
    op.create_table(
        "payee_holds",
        sa.Column("payee_hold_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("payee_id", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("held_by", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("released_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("released_by", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["payee_id"], ["users.user_id"], name=op.f("fk_payee_holds_payee_id_users")),
        sa.PrimaryKeyConstraint("payee_hold_id", name=op.f("pk_payee_holds")),
    )
    op.create_index(
        "uq_payee_holds_active_payee_id",
        "payee_holds",
        ["payee_id"],
        unique=True,
        postgresql_where=sa.text("released_at IS NULL"),
    )
    op.create_table(
        "payouts",
        sa.Column("payout_id", sa.Text(), nullable=False),
        sa.Column("payee_type", sa.Text(), nullable=False),
        sa.Column("payee_id", sa.Text(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("batch_date", sa.Date(), nullable=False),
        sa.Column("retry_of_payout_id", sa.Text(), nullable=True),
        sa.Column("destination", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("attempt_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.Column("gateway_payout_id", sa.Text(), nullable=True),
        sa.Column("gateway_status", sa.Text(), nullable=True),
        sa.Column("gateway_response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("utr", sa.Text(), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("submitted_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("processed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("failed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("cancelled_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("reversed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("payee_type IN ('seller', 'scout')", name=op.f("ck_payouts_payee_type")),
        sa.CheckConstraint(
            "status IN ('pending', 'processing', 'completed', 'failed', 'cancelled', 'reversed')",
            name=op.f("ck_payouts_status"),
        ),
        sa.CheckConstraint("amount_paise > 0", name=op.f("ck_payouts_amount_paise_positive")),
        sa.CheckConstraint("attempt_count >= 0", name=op.f("ck_payouts_attempt_count")),
        sa.CheckConstraint(
            "retry_of_payout_id IS NULL OR retry_of_payout_id <> payout_id", name=op.f("ck_payouts_not_own_retry")
        ),
        sa.ForeignKeyConstraint(["payee_id"], ["users.user_id"], name=op.f("fk_payouts_payee_id_users")),
        sa.ForeignKeyConstraint(
            ["retry_of_payout_id"], ["payouts.payout_id"], name=op.f("fk_payouts_retry_of_payout_id_payouts")
        ),
        sa.PrimaryKeyConstraint("payout_id", name=op.f("pk_payouts")),
        sa.UniqueConstraint("gateway_payout_id", name=op.f("uq_payouts_gateway_payout_id")),
    )
    op.create_index(op.f("ix_payouts_batch_date_status"), "payouts", ["batch_date", "status"], unique=False)
    op.create_index(op.f("ix_payouts_payee_id_created_at"), "payouts", ["payee_id", "created_at"], unique=False)
    op.create_index(op.f("ix_payouts_status_next_attempt_at"), "payouts", ["status", "next_attempt_at"], unique=False)
    op.create_index(
        "uq_payouts_payee_batch_date",
        "payouts",
        ["payee_type", "payee_id", "batch_date"],
        unique=True,
        postgresql_where=sa.text("retry_of_payout_id IS NULL"),
    )
    op.create_table(
        "payout_attempts",
        sa.Column("payout_attempt_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("payout_id", sa.Text(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("gateway_error_code", sa.Text(), nullable=True),
        sa.Column("gateway_payout_id", sa.Text(), nullable=True),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("answered_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('accepted', 'retriable', 'rejected', 'unknown', 'found', 'not_found')",
            name=op.f("ck_payout_attempts_outcome"),
        ),
        sa.CheckConstraint("attempt_number >= 1", name=op.f("ck_payout_attempts_attempt_number")),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.payout_id"], name=op.f("fk_payout_attempts_payout_id_payouts")
        ),
        sa.PrimaryKeyConstraint("payout_attempt_id", name=op.f("pk_payout_attempts")),
    )
    op.create_index(op.f("ix_payout_attempts_started_at"), "payout_attempts", ["started_at"], unique=False)
    op.create_index(
        "uq_payout_attempts_payout_id_attempt_number", "payout_attempts", ["payout_id", "attempt_number"], unique=True
    )
    op.create_table(
        "scout_payout_requests",
        sa.Column("scout_payout_request_id", sa.Text(), nullable=False),
        sa.Column("scout_id", sa.Text(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="requested", nullable=False),
        sa.Column("payout_id", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(status = 'scheduled') = (payout_id IS NOT NULL)",
            name=op.f("ck_scout_payout_requests_scheduled_has_payout"),
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'scheduled', 'rejected', 'cancelled')",
            name=op.f("ck_scout_payout_requests_status"),
        ),
        sa.CheckConstraint("amount_paise > 0", name=op.f("ck_scout_payout_requests_amount_paise_positive")),
        sa.ForeignKeyConstraint(
            ["payout_id"], ["payouts.payout_id"], name=op.f("fk_scout_payout_requests_payout_id_payouts")
        ),
        sa.ForeignKeyConstraint(["scout_id"], ["users.user_id"], name=op.f("fk_scout_payout_requests_scout_id_users")),
        sa.PrimaryKeyConstraint("scout_payout_request_id", name=op.f("pk_scout_payout_requests")),
    )
    op.create_index(op.f("ix_scout_payout_requests_payout_id"), "scout_payout_requests", ["payout_id"], unique=False)
    op.create_index(
        op.f("ix_scout_payout_requests_scout_id_status"), "scout_payout_requests", ["scout_id", "status"], unique=False
    )
    op.create_table(
        "payout_items",
        sa.Column("payout_item_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("payout_id", sa.Text(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("item_type", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("bounty_id", sa.BigInteger(), nullable=True),
        sa.Column("refund_id", sa.Text(), nullable=True),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("released_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "item_type IN ('settlement_line', 'bounty', 'clawback', 'adjustment')",
            name=op.f("ck_payout_items_item_type"),
        ),
        sa.CheckConstraint("amount_paise <> 0", name=op.f("ck_payout_items_amount_paise_nonzero")),
        sa.ForeignKeyConstraint(["bounty_id"], ["bounties.bounty_id"], name=op.f("fk_payout_items_bounty_id_bounties")),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["journal_entries.entry_id"], name=op.f("fk_payout_items_entry_id_journal_entries")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_payout_items_order_id_orders")),
        sa.ForeignKeyConstraint(["payout_id"], ["payouts.payout_id"], name=op.f("fk_payout_items_payout_id_payouts")),
        sa.PrimaryKeyConstraint("payout_item_id", name=op.f("pk_payout_items")),
    )
    op.create_index(op.f("ix_payout_items_entry_id"), "payout_items", ["entry_id"], unique=False)
    op.create_index(op.f("ix_payout_items_order_id"), "payout_items", ["order_id"], unique=False)
    op.create_index(op.f("ix_payout_items_payout_id"), "payout_items", ["payout_id"], unique=False)

    op.execute(PAYEE_ITEMS_VIEW)


def downgrade() -> None:
    op.execute("DROP VIEW payee_items")
    op.drop_index(op.f("ix_payout_items_payout_id"), table_name="payout_items")
    op.drop_index(op.f("ix_payout_items_order_id"), table_name="payout_items")
    op.drop_index(op.f("ix_payout_items_entry_id"), table_name="payout_items")
    op.drop_table("payout_items")
    op.drop_index(op.f("ix_scout_payout_requests_scout_id_status"), table_name="scout_payout_requests")
    op.drop_index(op.f("ix_scout_payout_requests_payout_id"), table_name="scout_payout_requests")
    op.drop_table("scout_payout_requests")
    op.drop_index("uq_payout_attempts_payout_id_attempt_number", table_name="payout_attempts")
    op.drop_index(op.f("ix_payout_attempts_started_at"), table_name="payout_attempts")
    op.drop_table("payout_attempts")
    op.drop_index(
        "uq_payouts_payee_batch_date", table_name="payouts", postgresql_where=sa.text("retry_of_payout_id IS NULL")
    )
    op.drop_index(op.f("ix_payouts_status_next_attempt_at"), table_name="payouts")
    op.drop_index(op.f("ix_payouts_payee_id_created_at"), table_name="payouts")
    op.drop_index(op.f("ix_payouts_batch_date_status"), table_name="payouts")
    op.drop_table("payouts")
    op.drop_index(
        "uq_payee_holds_active_payee_id", table_name="payee_holds", postgresql_where=sa.text("released_at IS NULL")
    )
    op.drop_table("payee_holds")
    op.drop_table("payout_health_daily", schema="analytics")
