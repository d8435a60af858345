"""reconciliation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 12:46:36.449554
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FEE_SCHEDULE_PERIODS = """
CREATE OR REPLACE VIEW fee_schedule_periods AS
SELECT fee_schedule_id, effective_from,
       lead(effective_from, 1, 'infinity'::date) OVER (ORDER BY effective_from) AS effective_to,
       platform_fee_bps, gateway_fee_bps, scout_bounty_paise, min_payout_paise, hold_days, gateway_gst_bps
FROM fee_schedules;
"""

FEE_SCHEDULE_PERIODS_0008 = """
DROP VIEW fee_schedule_periods;
CREATE VIEW fee_schedule_periods AS
SELECT fee_schedule_id, effective_from,
       lead(effective_from, 1, 'infinity'::date) OVER (ORDER BY effective_from) AS effective_to,
       platform_fee_bps, gateway_fee_bps, scout_bounty_paise, min_payout_paise, hold_days
FROM fee_schedules;
"""

RECON_EXCEPTION_ID = """
CREATE OR REPLACE FUNCTION recon_exception_id(report_date date, class text, payment_type text, reference_id text,
                                              occurrence integer) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN 'rex_' || left(encode(sha256(convert_to(
        concat_ws('|', report_date::text, class, payment_type, reference_id, occurrence::text), 'UTF8')), 'hex'), 24);
"""

ACCOUNT_TYPES_0010 = (
    "gateway_clearing", "bank", "payouts_in_transit", "seller_payable", "scout_payable", "platform_revenue",
    "bounty_expense", "recon_suspense",
)  # fmt: skip
ACCOUNT_TYPES = (*ACCOUNT_TYPES_0010, "gst_input_credit")


def _account_types(types: tuple[str, ...]) -> None:
    op.drop_constraint(op.f("ck_ledger_accounts_account_type"), "ledger_accounts", type_="check")
    listed = ", ".join(f"'{name}'" for name in types)
    op.create_check_constraint(
        op.f("ck_ledger_accounts_account_type"), "ledger_accounts", f"account_type IN ({listed})"
    )


FUNDS_SETTLED = """
CREATE OR REPLACE FUNCTION funds_settled(item_key text, item_date date, seller_id text) RETURNS boolean
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    RETURN NOT EXISTS (
        SELECT 1 FROM settlements s JOIN captures c ON c.order_id = s.order_id
        WHERE s.settlement_date = item_date AND s.seller_id = funds_settled.seller_id
          AND s.payee_item_key = funds_settled.item_key
          AND NOT EXISTS (SELECT 1 FROM gateway_report_rows g
                          WHERE g.payment_type = 'PAYMENT' AND g.merchant_reference_id = s.order_id
                            AND g.amount_paise = c.gross_paise)
    );
"""

IMMUTABLE_REPORTS = """
CREATE TRIGGER gateway_reports_append_only BEFORE UPDATE OR DELETE ON gateway_reports
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER gateway_report_rows_append_only BEFORE UPDATE OR DELETE ON gateway_report_rows
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_mutation();
"""


def upgrade() -> None:
    op.create_table(
        "recon_daily",
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("class", sa.Text(), nullable=False),
        sa.Column("report_version", sa.Integer(), nullable=False),
        sa.Column("items", sa.BigInteger(), nullable=False),
        sa.Column("expected_paise", sa.BigInteger(), nullable=False),
        sa.Column("reported_paise", sa.BigInteger(), nullable=False),
        sa.Column("difference_paise", sa.BigInteger(), nullable=False),
        sa.Column("report_total_paise", sa.BigInteger(), nullable=False),
        sa.Column("books_total_paise", sa.BigInteger(), nullable=False),
        sa.Column("residual_paise", sa.BigInteger(), nullable=False),
        sa.Column("refreshed_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("report_date", "class", name=op.f("pk_recon_daily")),
        schema="analytics",
    )
    op.create_table(
        "gateway_reports",
        sa.Column("report_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=True),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("settled_paise", sa.BigInteger(), nullable=False),
        sa.Column("received_by", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("source IN ('gateway', 'file')", name=op.f("ck_gateway_reports_source")),
        sa.CheckConstraint("version >= 1", name=op.f("ck_gateway_reports_version_positive")),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_gateway_reports")),
        sa.UniqueConstraint("report_date", "version", name=op.f("uq_gateway_reports_report_date_version")),
        sa.UniqueConstraint("report_date", "sha256", name=op.f("uq_gateway_reports_report_date_sha256")),
    )
    op.create_table(
        "gateway_report_rows",
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("payment_type", sa.Text(), nullable=False),
        sa.Column("merchant_reference_id", sa.Text(), nullable=False),
        sa.Column("phonepe_reference_id", sa.Text(), nullable=False),
        sa.Column("payer", sa.Text(), nullable=False),
        sa.Column("instrument", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("transaction_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("settlement_date", sa.Date(), nullable=False),
        sa.Column("bank_reference_no", sa.Text(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("fee_paise", sa.BigInteger(), nullable=False),
        sa.Column("igst_paise", sa.BigInteger(), nullable=False),
        sa.Column("cgst_paise", sa.BigInteger(), nullable=False),
        sa.Column("sgst_paise", sa.BigInteger(), nullable=False),
        sa.Column("settled_paise", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("payment_type IN ('PAYMENT', 'REFUND')", name=op.f("ck_gateway_report_rows_payment_type")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["gateway_reports.report_id"], name=op.f("fk_gateway_report_rows_report_id_gateway_reports")
        ),
        sa.PrimaryKeyConstraint("report_id", "line", name=op.f("pk_gateway_report_rows")),
    )
    op.create_index(
        op.f("ix_gateway_report_rows_merchant_reference_id"),
        "gateway_report_rows",
        ["merchant_reference_id"],
        unique=False,
    )
    op.create_table(
        "recon_exceptions",
        sa.Column("exception_id", sa.Text(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("class", sa.Text(), nullable=False),
        sa.Column("payment_type", sa.Text(), nullable=False),
        sa.Column("reference_id", sa.Text(), nullable=False),
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("expected_paise", sa.BigInteger(), nullable=False),
        sa.Column("reported_paise", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("first_seen_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("last_seen_at", postgresql.TIMESTAMP(timezone=True), nullable=False),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column("resolution_reason", sa.Text(), nullable=True),
        sa.Column("resolved_by", sa.Text(), nullable=True),
        sa.Column("approved_by", sa.Text(), nullable=True),
        sa.Column("resolved_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("entry_id", sa.BigInteger(), nullable=True),
        sa.CheckConstraint(
            "(status = 'open') = (resolved_at IS NULL)", name=op.f("ck_recon_exceptions_resolved_when_closed")
        ),
        sa.CheckConstraint(
            "class IN ('amount_mismatch', 'fee_mismatch', 'refund_mismatch', 'missing_in_report', 'missing_in_books', 'duplicate', 'paid_after_cancellation', 'batch_total_mismatch')",
            name=op.f("ck_recon_exceptions_class"),
        ),
        sa.CheckConstraint("status IN ('open', 'resolved', 'written_off')", name=op.f("ck_recon_exceptions_status")),
        sa.ForeignKeyConstraint(
            ["report_id"], ["gateway_reports.report_id"], name=op.f("fk_recon_exceptions_report_id_gateway_reports")
        ),
        sa.PrimaryKeyConstraint("exception_id", name=op.f("pk_recon_exceptions")),
    )
    op.create_index(
        op.f("ix_recon_exceptions_status_report_date"), "recon_exceptions", ["status", "report_date"], unique=False
    )
    op.create_table(
        "recon_items",
        sa.Column("report_id", sa.BigInteger(), nullable=False),
        sa.Column("item_no", sa.Integer(), nullable=False),
        sa.Column("report_date", sa.Date(), nullable=False),
        sa.Column("class", sa.Text(), nullable=False),
        sa.Column("payment_type", sa.Text(), nullable=False),
        sa.Column("reference_id", sa.Text(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("bank_reference_no", sa.Text(), nullable=True),
        sa.Column("expected_amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("reported_amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("expected_charges_paise", sa.BigInteger(), nullable=False),
        sa.Column("reported_charges_paise", sa.BigInteger(), nullable=False),
        sa.Column("expected_paise", sa.BigInteger(), nullable=False),
        sa.Column("reported_paise", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "class IN ('matched', 'amount_mismatch', 'fee_mismatch', 'refund_mismatch', 'missing_in_report_pending', 'missing_in_report', 'settled_later', 'late_settlement', 'missing_in_books', 'duplicate', 'paid_after_cancellation')",
            name=op.f("ck_recon_items_class"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["gateway_reports.report_id"], name=op.f("fk_recon_items_report_id_gateway_reports")
        ),
        sa.PrimaryKeyConstraint("report_id", "item_no", name=op.f("pk_recon_items")),
    )
    op.create_index(op.f("ix_recon_items_report_date_class"), "recon_items", ["report_date", "class"], unique=False)
    op.add_column("fee_schedules", sa.Column("gateway_gst_bps", sa.Integer(), server_default="1800", nullable=False))
    op.create_check_constraint(
        op.f("ck_fee_schedules_gateway_gst_bps"), "fee_schedules", "gateway_gst_bps BETWEEN 0 AND 10000"
    )
    op.execute(FEE_SCHEDULE_PERIODS)
    op.execute(IMMUTABLE_REPORTS)
    op.execute(RECON_EXCEPTION_ID)
    op.execute(FUNDS_SETTLED)
    _account_types(ACCOUNT_TYPES)


def downgrade() -> None:
    _account_types(ACCOUNT_TYPES_0010)
    op.execute("DROP FUNCTION funds_settled(text, date, text)")
    op.execute("DROP FUNCTION recon_exception_id(date, text, text, text, integer)")
    op.execute(FEE_SCHEDULE_PERIODS_0008)
    op.drop_column("fee_schedules", "gateway_gst_bps")
    op.drop_index(op.f("ix_recon_items_report_date_class"), table_name="recon_items")
    op.drop_table("recon_items")
    op.drop_index(op.f("ix_recon_exceptions_status_report_date"), table_name="recon_exceptions")
    op.drop_table("recon_exceptions")
    op.drop_index(op.f("ix_gateway_report_rows_merchant_reference_id"), table_name="gateway_report_rows")
    op.drop_table("gateway_report_rows")
    op.drop_table("gateway_reports")
    op.drop_table("recon_daily", schema="analytics")
