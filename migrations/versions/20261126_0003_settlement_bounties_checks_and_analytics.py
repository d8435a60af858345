"""Settlement: payment confirmations, settlement lines, bounties, check results, analytics.

Also the SQL twin of domain.money.bps_of (tests prove they agree), the `order_fees` view that
captures and settlement lines share, and the read-only `analyst` role on schema `analytics`.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:40:34.234431
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


BEFORE_TABLES = """
CREATE SCHEMA analytics;

-- The SQL twin of domain.money.bps_of: round_half_up(amount * bps / 10000) for amount >= 0.
CREATE FUNCTION bps_of(amount_paise bigint, bps integer) RETURNS bigint
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (amount_paise * bps + 5000) / 10000;
"""

AFTER_TABLES = """
-- Every order's fee breakdown under the fee schedule in effect on its payment day (IST).
CREATE VIEW order_fees AS
WITH schedules AS (
    SELECT fee_schedule_id, platform_fee_bps, gateway_fee_bps, hold_days, effective_from,
           lead(effective_from, 1, 'infinity'::date) OVER (ORDER BY effective_from) AS effective_to
    FROM fee_schedules
)
SELECT f.order_id, f.seller_id, f.gross_paise, f.platform_fee_paise, f.gateway_fee_paise,
       f.gross_paise - f.platform_fee_paise - f.gateway_fee_paise AS seller_net_paise,
       f.fee_schedule_id, f.hold_days
FROM (
    -- domain.money.fee_breakdown: the platform fee gives way if two roundings exceed the gross.
    SELECT o.order_id, o.seller_id, o.amount_paise AS gross_paise,
           LEAST(bps_of(o.amount_paise, s.platform_fee_bps),
                 o.amount_paise - bps_of(o.amount_paise, s.gateway_fee_bps)) AS platform_fee_paise,
           bps_of(o.amount_paise, s.gateway_fee_bps) AS gateway_fee_paise,
           s.fee_schedule_id, s.hold_days
    FROM orders o
    JOIN schedules s
      ON (o.paid_at AT TIME ZONE 'Asia/Kolkata')::date >= s.effective_from
     AND (o.paid_at AT TIME ZONE 'Asia/Kolkata')::date < s.effective_to
    WHERE o.paid_at IS NOT NULL
) AS f;

DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'analyst') THEN
        CREATE ROLE analyst NOLOGIN;
    END IF;
END $$;
GRANT USAGE ON SCHEMA analytics TO analyst;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO analyst;
ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO analyst;
"""

DROP_EXTRAS = """
ALTER DEFAULT PRIVILEGES IN SCHEMA analytics REVOKE SELECT ON TABLES FROM analyst;
REVOKE ALL ON ALL TABLES IN SCHEMA analytics FROM analyst;
REVOKE USAGE ON SCHEMA analytics FROM analyst;
DROP VIEW order_fees;
"""


def upgrade() -> None:
    op.execute(BEFORE_TABLES)
    op.create_table(
        "daily_revenue",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders_paid", sa.BigInteger(), nullable=False),
        sa.Column("gmv_paise", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("gateway_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("refunds_paise", sa.BigInteger(), nullable=False),
        sa.Column("refunded_platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("bounty_expense_paise", sa.BigInteger(), nullable=False),
        sa.Column("net_revenue_paise", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_daily_revenue")),
        schema="analytics",
    )
    op.create_table(
        "order_completion_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("orders_created", sa.BigInteger(), nullable=False),
        sa.Column("orders_paid", sa.BigInteger(), nullable=False),
        sa.Column("orders_completed", sa.BigInteger(), nullable=False),
        sa.Column("orders_cancelled", sa.BigInteger(), nullable=False),
        sa.Column("orders_payment_failed", sa.BigInteger(), nullable=False),
        sa.Column("completion_rate_bps", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_order_completion_daily")),
        schema="analytics",
    )
    op.create_table(
        "payment_success_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("payments_succeeded", sa.BigInteger(), nullable=False),
        sa.Column("payments_failed", sa.BigInteger(), nullable=False),
        sa.Column("success_rate_bps", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_payment_success_daily")),
        schema="analytics",
    )
    op.create_table(
        "scout_leaderboard",
        sa.Column("scout_id", sa.Text(), nullable=False),
        sa.Column("scout_name", sa.Text(), nullable=False),
        sa.Column("recruits", sa.BigInteger(), nullable=False),
        sa.Column("bounties_earned", sa.BigInteger(), nullable=False),
        sa.Column("bounty_paise", sa.BigInteger(), nullable=False),
        sa.Column("rank", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("scout_id", name=op.f("pk_scout_leaderboard")),
        schema="analytics",
    )
    op.create_table(
        "seller_earnings_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("orders_settled", sa.BigInteger(), nullable=False),
        sa.Column("gross_paise", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("gateway_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("seller_net_paise", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("day", "seller_id", name=op.f("pk_seller_earnings_daily")),
        schema="analytics",
    )
    op.create_table(
        "check_results",
        sa.Column("check_result_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.Column("partition_key", sa.Text(), nullable=True),
        sa.Column("asset_key", sa.Text(), nullable=False),
        sa.Column("check_name", sa.Text(), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column(
            "details", postgresql.JSONB(astext_type=sa.Text()), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column("checked_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("check_result_id", name=op.f("pk_check_results")),
    )
    op.create_index(
        op.f("ix_check_results_asset_key_partition_key_checked_at"),
        "check_results",
        ["asset_key", "partition_key", "checked_at"],
        unique=False,
    )
    op.create_table(
        "bounties",
        sa.Column("bounty_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("recruit_id", sa.Text(), nullable=False),
        sa.Column("scout_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("fee_schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("earned_date", sa.Date(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("amount_paise > 0", name=op.f("ck_bounties_amount_paise_positive")),
        sa.CheckConstraint("recruit_id <> scout_id", name=op.f("ck_bounties_not_self_referral")),
        sa.ForeignKeyConstraint(
            ["fee_schedule_id"],
            ["fee_schedules.fee_schedule_id"],
            name=op.f("fk_bounties_fee_schedule_id_fee_schedules"),
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_bounties_order_id_orders")),
        sa.ForeignKeyConstraint(["recruit_id"], ["users.user_id"], name=op.f("fk_bounties_recruit_id_users")),
        sa.ForeignKeyConstraint(["scout_id"], ["users.user_id"], name=op.f("fk_bounties_scout_id_users")),
        sa.PrimaryKeyConstraint("bounty_id", name=op.f("pk_bounties")),
        sa.UniqueConstraint("recruit_id", name=op.f("uq_bounties_recruit_id")),
    )
    op.create_index(op.f("ix_bounties_earned_date"), "bounties", ["earned_date"], unique=False)
    op.create_index(op.f("ix_bounties_scout_id"), "bounties", ["scout_id"], unique=False)
    op.create_table(
        "payment_confirmations",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("gateway_state", sa.Text(), nullable=True),
        sa.Column("gateway_amount_paise", sa.BigInteger(), nullable=True),
        sa.Column("gateway_transaction_id", sa.Text(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("checked_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.order_id"], name=op.f("fk_payment_confirmations_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_payment_confirmations")),
    )
    op.create_index(
        op.f("ix_payment_confirmations_confirmed_checked_at"),
        "payment_confirmations",
        ["confirmed", "checked_at"],
        unique=False,
    )
    op.create_table(
        "settlement_lines",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("gross_paise", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("gateway_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("seller_net_paise", sa.BigInteger(), nullable=False),
        sa.Column("fee_schedule_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("gross_paise > 0", name=op.f("ck_settlement_lines_gross_paise_positive")),
        sa.CheckConstraint(
            "platform_fee_paise >= 0 AND gateway_fee_paise >= 0", name=op.f("ck_settlement_lines_fees_not_negative")
        ),
        sa.CheckConstraint(
            "seller_net_paise = gross_paise - platform_fee_paise - gateway_fee_paise",
            name=op.f("ck_settlement_lines_parts_add_up"),
        ),
        sa.CheckConstraint("seller_net_paise >= 0", name=op.f("ck_settlement_lines_seller_net_not_negative")),
        sa.ForeignKeyConstraint(
            ["fee_schedule_id"],
            ["fee_schedules.fee_schedule_id"],
            name=op.f("fk_settlement_lines_fee_schedule_id_fee_schedules"),
        ),
        sa.ForeignKeyConstraint(["order_id"], ["orders.order_id"], name=op.f("fk_settlement_lines_order_id_orders")),
        sa.ForeignKeyConstraint(["seller_id"], ["users.user_id"], name=op.f("fk_settlement_lines_seller_id_users")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_settlement_lines")),
    )
    op.create_index(
        op.f("ix_settlement_lines_seller_id_settlement_date"),
        "settlement_lines",
        ["seller_id", "settlement_date"],
        unique=False,
    )
    op.create_index(
        op.f("ix_settlement_lines_settlement_date_seller_id"),
        "settlement_lines",
        ["settlement_date", "seller_id"],
        unique=False,
    )

    op.execute(AFTER_TABLES)


def downgrade() -> None:
    op.execute(DROP_EXTRAS)
    op.drop_index(op.f("ix_settlement_lines_settlement_date_seller_id"), table_name="settlement_lines")
    op.drop_index(op.f("ix_settlement_lines_seller_id_settlement_date"), table_name="settlement_lines")
    op.drop_table("settlement_lines")
    op.drop_index(op.f("ix_payment_confirmations_confirmed_checked_at"), table_name="payment_confirmations")
    op.drop_table("payment_confirmations")
    op.drop_index(op.f("ix_bounties_scout_id"), table_name="bounties")
    op.drop_index(op.f("ix_bounties_earned_date"), table_name="bounties")
    op.drop_table("bounties")
    op.drop_index(op.f("ix_check_results_asset_key_partition_key_checked_at"), table_name="check_results")
    op.drop_table("check_results")
    op.drop_table("seller_earnings_daily", schema="analytics")
    op.drop_table("scout_leaderboard", schema="analytics")
    op.drop_table("payment_success_daily", schema="analytics")
    op.drop_table("order_completion_daily", schema="analytics")
    op.drop_table("daily_revenue", schema="analytics")
    op.execute("DROP FUNCTION bps_of(bigint, integer)")
    op.execute("DROP SCHEMA analytics")
