"""Refunds: requests and their lifecycle, gateway attempts, the immutable refund subledger, stray payments.

- `refunds` (the request, its approval, its PhonePe state; the refund id is the merchantRefundId) and
  `refund_attempts` (one row per create call, written before the call).
- `order_refunds`: one immutable row per completed refund (what the buyer got back, the platform fee
  it reversed, what the seller gave back), naming its ledger entry.
- `stray_payments`: payments reported for orders that can no longer be paid, refunded once confirmed.
- `order_states` derives `partially_refunded` and `refunded` from the subledger (a copy frozen at this
  revision of `sql/objects/order_states.sql`).
- `analytics.refunds_daily`, and the gateway fee borne on stray payments in `analytics.daily_revenue`.
- Stored webhooks not yet processed are found through a partial index, not a scan of every delivery.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


ORDER_STATES = """
CREATE OR REPLACE VIEW order_states AS
SELECT o.order_id, o.buyer_id, o.seller_id, o.listing_id, o.title, o.amount_paise, o.currency,
       CASE WHEN o.status NOT IN ('paid', 'delivered') THEN o.status
            WHEN r.refunded_paise >= o.amount_paise THEN 'refunded'
            WHEN r.refunded_paise > 0 THEN 'partially_refunded'
            WHEN EXISTS (SELECT 1 FROM settlements s WHERE s.order_id = o.order_id) THEN 'settled'
            ELSE o.status END AS status,
       o.status AS recorded_status, o.gateway_order_id, o.gateway_transaction_id, o.payment_mode, o.paid_at,
       o.delivered_at, o.cancelled_at, o.payment_failed_at, o.created_at, o.updated_at
FROM orders o
LEFT JOIN LATERAL (
    SELECT coalesce(sum(x.refund_paise), 0) AS refunded_paise FROM order_refunds x
    WHERE x.order_id = o.order_id AND x.kind = 'order'
) r ON true;
"""

ORDER_STATES_0008 = """
CREATE OR REPLACE VIEW order_states AS
SELECT o.order_id, o.buyer_id, o.seller_id, o.listing_id, o.title, o.amount_paise, o.currency,
       CASE WHEN o.status IN ('paid', 'delivered')
                 AND EXISTS (SELECT 1 FROM settlements s WHERE s.order_id = o.order_id) THEN 'settled'
            ELSE o.status END AS status,
       o.status AS recorded_status, o.gateway_order_id, o.gateway_transaction_id, o.payment_mode, o.paid_at,
       o.delivered_at, o.cancelled_at, o.payment_failed_at, o.created_at, o.updated_at
FROM orders o;
"""

IMMUTABLE_REFUNDS = """
CREATE TRIGGER order_refunds_append_only BEFORE UPDATE OR DELETE ON order_refunds
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER order_refunds_no_truncate BEFORE TRUNCATE ON order_refunds
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_mutation();
"""


def upgrade() -> None:
    op.create_table(
        "refunds_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("refunds_completed", sa.BigInteger(), nullable=False),
        sa.Column("refund_paise", sa.BigInteger(), nullable=False),
        sa.Column("refunded_platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("clawback_paise", sa.BigInteger(), nullable=False),
        sa.Column("refunds_failed", sa.BigInteger(), nullable=False),
        sa.Column("failed_paise", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("day", "kind", "reason", name=op.f("pk_refunds_daily")),
        schema="analytics",
    )
    op.create_table(
        "order_refunds",
        sa.Column("refund_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("completed_date", sa.Date(), nullable=False),
        sa.Column("refund_paise", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_reversed_paise", sa.BigInteger(), nullable=False),
        sa.Column("seller_debit_paise", sa.BigInteger(), nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "kind = 'stray' OR refund_paise = platform_fee_reversed_paise + seller_debit_paise",
            name=op.f("ck_order_refunds_parts_add_up"),
        ),
        sa.CheckConstraint(
            "platform_fee_reversed_paise >= 0 AND seller_debit_paise >= 0",
            name=op.f("ck_order_refunds_parts_not_negative"),
        ),
        sa.CheckConstraint("refund_paise > 0", name=op.f("ck_order_refunds_refund_paise_positive")),
        sa.CheckConstraint(
            "refund_paise >= platform_fee_reversed_paise + seller_debit_paise",
            name=op.f("ck_order_refunds_parts_within_refund"),
        ),
        sa.PrimaryKeyConstraint("refund_id", name=op.f("pk_order_refunds")),
    )
    op.create_index(
        op.f("ix_order_refunds_completed_date_seller_id"),
        "order_refunds",
        ["completed_date", "seller_id"],
        unique=False,
    )
    op.create_index(op.f("ix_order_refunds_order_id"), "order_refunds", ["order_id"], unique=False)
    op.create_table(
        "refunds",
        sa.Column("refund_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), server_default="order", nullable=False),
        sa.Column("buyer_id", sa.Text(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("approval_reasons", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("requested_by", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("retry_of_refund_id", sa.Text(), nullable=True),
        sa.Column("attempt_count", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("next_check_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("status_checks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("gateway_refund_id", sa.Text(), nullable=True),
        sa.Column("gateway_state", sa.Text(), nullable=True),
        sa.Column("gateway_response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("failure_reason", sa.Text(), nullable=True),
        sa.Column("stuck_alerted_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("api_key_id", sa.BigInteger(), nullable=True),
        sa.Column("idempotency_key", sa.Text(), nullable=True),
        sa.Column("request_hash", sa.Text(), nullable=True),
        sa.Column("first_response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("decided_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("submitted_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("completed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("failed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'completed') = (completed_at IS NOT NULL)", name=op.f("ck_refunds_completed_has_time")
        ),
        sa.CheckConstraint("kind IN ('order', 'stray')", name=op.f("ck_refunds_kind")),
        sa.CheckConstraint(
            "reason IN ('customer_request', 'item_not_received', 'item_damaged', 'item_not_as_described', 'wrong_item', 'duplicate_payment', 'order_cancelled', 'other', 'paid_after_cancellation', 'paid_after_failure')",
            name=op.f("ck_refunds_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('requested', 'approved', 'rejected', 'submitted', 'completed', 'failed')",
            name=op.f("ck_refunds_status"),
        ),
        sa.CheckConstraint("amount_paise > 0", name=op.f("ck_refunds_amount_paise_positive")),
        sa.CheckConstraint("char_length(refund_id) <= 63", name=op.f("ck_refunds_merchant_refund_id_length")),
        sa.CheckConstraint(
            "retry_of_refund_id IS NULL OR retry_of_refund_id <> refund_id", name=op.f("ck_refunds_not_own_retry")
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_refunds_order_id_orders")),
        sa.ForeignKeyConstraint(
            ["retry_of_refund_id"], ["refunds.refund_id"], name=op.f("fk_refunds_retry_of_refund_id_refunds")
        ),
        sa.PrimaryKeyConstraint("refund_id", name=op.f("pk_refunds")),
        sa.UniqueConstraint("retry_of_refund_id", name=op.f("uq_refunds_retry_of_refund_id")),
    )
    op.create_index(
        op.f("ix_refunds_api_key_id_idempotency_key"), "refunds", ["api_key_id", "idempotency_key"], unique=True
    )
    op.create_index(op.f("ix_refunds_completed_at"), "refunds", ["completed_at"], unique=False)
    op.create_index(
        "ix_refunds_due", "refunds", ["next_attempt_at"], unique=False, postgresql_where=sa.text("status = 'approved'")
    )
    op.create_index(op.f("ix_refunds_failed_at"), "refunds", ["failed_at"], unique=False)
    op.create_index(op.f("ix_refunds_order_id"), "refunds", ["order_id"], unique=False)
    op.create_index(op.f("ix_refunds_status_refund_id"), "refunds", ["status", "refund_id"], unique=False)
    op.create_index(
        "ix_refunds_submitted",
        "refunds",
        ["next_check_at"],
        unique=False,
        postgresql_where=sa.text("status = 'submitted'"),
    )
    op.create_table(
        "refund_attempts",
        sa.Column("refund_attempt_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("refund_id", sa.Text(), nullable=False),
        sa.Column("attempt_number", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("gateway_error_code", sa.Text(), nullable=True),
        sa.Column("gateway_refund_id", sa.Text(), nullable=True),
        sa.Column("response", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("answered_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint(
            "outcome IN ('accepted', 'retriable', 'rejected', 'unknown', 'found', 'not_found')",
            name=op.f("ck_refund_attempts_outcome"),
        ),
        sa.CheckConstraint("attempt_number >= 1", name=op.f("ck_refund_attempts_attempt_number")),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.refund_id"], name=op.f("fk_refund_attempts_refund_id_refunds")
        ),
        sa.PrimaryKeyConstraint("refund_attempt_id", name=op.f("pk_refund_attempts")),
    )
    op.create_index(
        "uq_refund_attempts_refund_id_attempt_number", "refund_attempts", ["refund_id", "attempt_number"], unique=True
    )
    op.create_table(
        "stray_payments",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("webhook_event_id", sa.BigInteger(), nullable=False),
        sa.Column("reported_amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="reported", nullable=False),
        sa.Column("checks", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_check_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=True),
        sa.Column("gateway_amount_paise", sa.BigInteger(), nullable=True),
        sa.Column("gateway_fee_paise", sa.BigInteger(), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.Column("refund_id", sa.Text(), nullable=True),
        sa.Column("reported_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("resolved_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'refunding') = (refund_id IS NOT NULL)", name=op.f("ck_stray_payments_refunding_has_refund")
        ),
        sa.CheckConstraint(
            "status IN ('reported', 'refunding', 'not_completed', 'paid_order', 'expired')",
            name=op.f("ck_stray_payments_status"),
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_stray_payments_order_id_orders")),
        sa.ForeignKeyConstraint(["refund_id"], ["refunds.refund_id"], name=op.f("fk_stray_payments_refund_id_refunds")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_stray_payments")),
    )
    op.create_index(
        "ix_stray_payments_due",
        "stray_payments",
        ["next_check_at"],
        unique=False,
        postgresql_where=sa.text("status = 'reported'"),
    )
    op.create_index(op.f("ix_stray_payments_resolved_at"), "stray_payments", ["resolved_at"], unique=False)
    op.add_column(
        "daily_revenue",
        sa.Column("stray_gateway_fee_paise", sa.BigInteger(), server_default="0", nullable=False),
        schema="analytics",
    )
    op.create_index(
        "ix_webhook_events_unprocessed",
        "webhook_events",
        ["source", "webhook_event_id"],
        postgresql_where=sa.text("processed_at IS NULL AND verdict = 'accepted'"),
    )
    op.execute(IMMUTABLE_REFUNDS)
    op.execute(ORDER_STATES)


def downgrade() -> None:
    """Refused while refunds exist: their money would lose its subledger and its derived status."""
    op.execute(
        "DO $$ BEGIN IF EXISTS (SELECT 1 FROM refunds) OR EXISTS (SELECT 1 FROM stray_payments) THEN "
        "RAISE EXCEPTION 'refunds exist: downgrading below 0010 would lose them'; END IF; END $$"
    )
    op.execute(ORDER_STATES_0008)
    op.drop_index("ix_webhook_events_unprocessed", table_name="webhook_events")
    op.drop_column("daily_revenue", "stray_gateway_fee_paise", schema="analytics")
    op.drop_index(op.f("ix_stray_payments_resolved_at"), table_name="stray_payments")
    op.drop_index("ix_stray_payments_due", table_name="stray_payments", postgresql_where=sa.text("status = 'reported'"))
    op.drop_table("stray_payments")
    op.drop_index("uq_refund_attempts_refund_id_attempt_number", table_name="refund_attempts")
    op.drop_table("refund_attempts")
    op.drop_index("ix_refunds_submitted", table_name="refunds", postgresql_where=sa.text("status = 'submitted'"))
    op.drop_index(op.f("ix_refunds_status_refund_id"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_order_id"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_failed_at"), table_name="refunds")
    op.drop_index("ix_refunds_due", table_name="refunds", postgresql_where=sa.text("status = 'approved'"))
    op.drop_index(op.f("ix_refunds_completed_at"), table_name="refunds")
    op.drop_index(op.f("ix_refunds_api_key_id_idempotency_key"), table_name="refunds")
    op.drop_table("refunds")
    op.drop_index(op.f("ix_order_refunds_order_id"), table_name="order_refunds")
    op.drop_index(op.f("ix_order_refunds_completed_date_seller_id"), table_name="order_refunds")
    op.drop_table("order_refunds")
    op.drop_table("refunds_daily", schema="analytics")
