"""fee versions: a version in effect is never edited (triggers); analytics.fee_what_if

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 15:11:31.661985
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


FEE_SCHEDULE_GUARD = """
CREATE OR REPLACE FUNCTION fee_schedule_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    today date := (now() AT TIME ZONE 'Asia/Kolkata')::date;
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF EXISTS (SELECT 1 FROM fee_schedules WHERE effective_from <= today) THEN
            RAISE EXCEPTION 'fee_schedules holds versions in effect: TRUNCATE refused'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.effective_from <= today THEN
        RAISE EXCEPTION 'fee schedule % is in effect since %: % refused; add a version effective from a later date',
            OLD.fee_schedule_id, OLD.effective_from, TG_OP USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.effective_from <= today
       AND NOT (TG_OP = 'INSERT' AND NEW.effective_from = DATE '2000-01-01'
                AND NOT EXISTS (SELECT 1 FROM fee_schedules)) THEN
        RAISE EXCEPTION 'a fee schedule version must take effect after today (% IST): % effective from % refused',
            today, TG_OP, NEW.effective_from USING ERRCODE = 'check_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
"""

TRIGGERS = """
CREATE TRIGGER fee_schedules_in_effect_frozen BEFORE INSERT OR UPDATE OR DELETE ON fee_schedules
    FOR EACH ROW EXECUTE FUNCTION fee_schedule_refuse_change();
CREATE TRIGGER fee_schedules_not_truncated BEFORE TRUNCATE ON fee_schedules
    FOR EACH STATEMENT EXECUTE FUNCTION fee_schedule_refuse_change();
"""


def upgrade() -> None:
    op.create_table(
        "fee_what_if",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("draft_platform_fee_bps", sa.Integer(), nullable=True),
        sa.Column("draft_gateway_fee_bps", sa.Integer(), nullable=True),
        sa.Column("draft_scout_bounty_paise", sa.BigInteger(), nullable=True),
        sa.Column("orders", sa.BigInteger(), nullable=False),
        sa.Column("gmv_paise", sa.BigInteger(), nullable=False),
        sa.Column("actual_platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("draft_platform_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("platform_fee_diff_paise", sa.BigInteger(), nullable=False),
        sa.Column("actual_gateway_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("draft_gateway_fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("gateway_fee_diff_paise", sa.BigInteger(), nullable=False),
        sa.Column("actual_seller_net_paise", sa.BigInteger(), nullable=False),
        sa.Column("draft_seller_net_paise", sa.BigInteger(), nullable=False),
        sa.Column("seller_net_diff_paise", sa.BigInteger(), nullable=False),
        sa.Column("bounties", sa.BigInteger(), nullable=False),
        sa.Column("actual_bounty_paise", sa.BigInteger(), nullable=False),
        sa.Column("draft_bounty_paise", sa.BigInteger(), nullable=False),
        sa.Column("bounty_diff_paise", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "day", name=op.f("pk_fee_what_if")),
        schema="analytics",
    )
    op.execute(FEE_SCHEDULE_GUARD)
    op.execute(TRIGGERS)


def downgrade() -> None:
    op.execute("DROP TRIGGER fee_schedules_not_truncated ON fee_schedules")
    op.execute("DROP TRIGGER fee_schedules_in_effect_frozen ON fee_schedules")
    op.execute("DROP FUNCTION fee_schedule_refuse_change()")
    op.drop_table("fee_what_if", schema="analytics")
