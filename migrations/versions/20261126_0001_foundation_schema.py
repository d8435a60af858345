"""Foundation schema: users, orders, webhooks, API keys, fee schedules, the ledger and the outbox.

The ledger's invariants live in PostgreSQL itself: a statement-level trigger refuses any insert
that leaves an entry unbalanced or names an unknown entry or account, and triggers refuse UPDATE,
DELETE and TRUNCATE of entries, lines and accounts.

Revision ID: 0001
Revises:
Create Date: 2026-11-26 12:28:57.532399
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


LEDGER_TRIGGERS = """
CREATE FUNCTION ledger_refuse_unbalanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    -- Referential integrity once per statement, for each distinct entry and account it touches,
    -- instead of two foreign-key queries per line. Entries and accounts are never deleted, so
    -- checking at insert suffices. The aggregates in the LATERAL subqueries keep the planner from
    -- turning the probes into a join that would scan the whole table on every statement.
    SELECT touched.entry_id, NULL::text AS account_id INTO bad
    FROM (SELECT DISTINCT entry_id FROM new_lines) AS touched
    CROSS JOIN LATERAL (SELECT count(*) AS n FROM journal_entries e WHERE e.entry_id = touched.entry_id) AS known
    WHERE known.n = 0
    LIMIT 1;
    IF NOT FOUND THEN
        SELECT NULL::bigint AS entry_id, touched.account_id INTO bad
        FROM (SELECT DISTINCT account_id FROM new_lines) AS touched
        CROSS JOIN LATERAL (
            SELECT count(*) AS n FROM ledger_accounts a WHERE a.account_id = touched.account_id
        ) AS known
        WHERE known.n = 0
        LIMIT 1;
    END IF;
    IF FOUND THEN
        RAISE EXCEPTION 'ledger line refers to an unknown entry % or account %', bad.entry_id, bad.account_id
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    -- Balance: the LATERAL sum reads each touched entry through the entry_id index, so the cost
    -- follows the statement, not the size of the ledger.
    SELECT touched.entry_id, total.amount_paise AS total INTO bad
    FROM (SELECT DISTINCT entry_id FROM new_lines) AS touched
    CROSS JOIN LATERAL (
        SELECT sum(l.amount_paise) AS amount_paise FROM ledger_lines l WHERE l.entry_id = touched.entry_id
    ) AS total
    WHERE total.amount_paise <> 0
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance: its lines sum to % paise', bad.entry_id, bad.total
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER ledger_lines_balance AFTER INSERT ON ledger_lines
    REFERENCING NEW TABLE AS new_lines FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_unbalanced();

CREATE FUNCTION ledger_refuse_mutation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused; post a correcting entry instead', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER ledger_lines_append_only BEFORE UPDATE OR DELETE ON ledger_lines
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER ledger_lines_no_truncate BEFORE TRUNCATE ON ledger_lines
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER journal_entries_append_only BEFORE UPDATE OR DELETE ON journal_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER journal_entries_no_truncate BEFORE TRUNCATE ON journal_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE ON ledger_accounts
    FOR EACH ROW EXECUTE FUNCTION ledger_refuse_mutation();
CREATE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_mutation();
"""

DROP_LEDGER_TRIGGERS = """
DROP TRIGGER ledger_accounts_no_truncate ON ledger_accounts;
DROP TRIGGER ledger_accounts_append_only ON ledger_accounts;
DROP TRIGGER journal_entries_no_truncate ON journal_entries;
DROP TRIGGER journal_entries_append_only ON journal_entries;
DROP TRIGGER ledger_lines_no_truncate ON ledger_lines;
DROP TRIGGER ledger_lines_append_only ON ledger_lines;
DROP TRIGGER ledger_lines_balance ON ledger_lines;
DROP FUNCTION ledger_refuse_mutation();
DROP FUNCTION ledger_refuse_unbalanced();
"""


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("api_key_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.Text(), nullable=False),
        sa.Column("key_prefix", sa.Text(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("role IN ('client', 'admin')", name=op.f("ck_api_keys_role")),
        sa.PrimaryKeyConstraint("api_key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
        sa.UniqueConstraint("name", name=op.f("uq_api_keys_name")),
    )
    op.create_table(
        "audit_log",
        sa.Column("audit_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("action", sa.Text(), nullable=False),
        sa.Column("target_type", sa.Text(), nullable=False),
        sa.Column("target_id", sa.Text(), nullable=False),
        sa.Column("before", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("after", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("request_id", sa.Text(), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("audit_id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_target_type_target_id"), "audit_log", ["target_type", "target_id"], unique=False)
    op.create_table(
        "fee_schedules",
        sa.Column("fee_schedule_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("platform_fee_bps", sa.Integer(), nullable=False),
        sa.Column("gateway_fee_bps", sa.Integer(), nullable=False),
        sa.Column("scout_bounty_paise", sa.BigInteger(), nullable=False),
        sa.Column("min_payout_paise", sa.BigInteger(), nullable=False),
        sa.Column("hold_days", sa.Integer(), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("gateway_fee_bps BETWEEN 0 AND 10000", name=op.f("ck_fee_schedules_gateway_fee_bps")),
        sa.CheckConstraint("hold_days >= 0", name=op.f("ck_fee_schedules_hold_days")),
        sa.CheckConstraint("min_payout_paise > 0", name=op.f("ck_fee_schedules_min_payout_paise")),
        sa.CheckConstraint(
            "platform_fee_bps + gateway_fee_bps <= 10000", name=op.f("ck_fee_schedules_fees_within_gross")
        ),
        sa.CheckConstraint("platform_fee_bps BETWEEN 0 AND 10000", name=op.f("ck_fee_schedules_platform_fee_bps")),
        sa.CheckConstraint("scout_bounty_paise >= 0", name=op.f("ck_fee_schedules_scout_bounty_paise")),
        sa.PrimaryKeyConstraint("fee_schedule_id", name=op.f("pk_fee_schedules")),
        sa.UniqueConstraint("effective_from", name=op.f("uq_fee_schedules_effective_from")),
    )
    op.create_table(
        "journal_entries",
        sa.Column("entry_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("entry_type", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), server_default="", nullable=False),
        sa.Column(
            "occurred_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("reference_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_journal_entries")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_journal_entries_idempotency_key")),
    )
    op.create_index(
        op.f("ix_journal_entries_entry_type_occurred_at"),
        "journal_entries",
        ["entry_type", "occurred_at"],
        unique=False,
    )
    op.create_index(op.f("ix_journal_entries_reference_id"), "journal_entries", ["reference_id"], unique=False)
    op.create_table(
        "ledger_accounts",
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("account_type", sa.Text(), nullable=False),
        sa.Column("payee_id", sa.Text(), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "(account_type IN ('seller_payable', 'scout_payable')) = (payee_id IS NOT NULL)",
            name=op.f("ck_ledger_accounts_payee_accounts_name_a_payee"),
        ),
        sa.CheckConstraint(
            "account_type IN ('gateway_clearing', 'bank', 'payouts_in_transit', 'seller_payable', 'scout_payable', 'platform_revenue', 'bounty_expense', 'recon_suspense')",
            name=op.f("ck_ledger_accounts_account_type"),
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_ledger_accounts")),
    )
    op.create_index(op.f("ix_ledger_accounts_payee_id"), "ledger_accounts", ["payee_id"], unique=False)
    op.create_table(
        "users",
        sa.Column("user_id", sa.Text(), nullable=False),
        sa.Column("role", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.Column("status", sa.Text(), server_default="active", nullable=False),
        sa.Column("referral_code", sa.Text(), nullable=True),
        sa.Column("recruiter_id", sa.Text(), nullable=True),
        sa.Column("referral_source", sa.Text(), server_default="none", nullable=False),
        sa.Column("payout_destination", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("referral_code IS NULL OR role = 'scout'", name=op.f("ck_users_referral_code_for_scouts")),
        sa.CheckConstraint(
            "referral_source IN ('link', 'code', 'admin', 'none')", name=op.f("ck_users_referral_source")
        ),
        sa.CheckConstraint("role IN ('buyer', 'seller', 'scout')", name=op.f("ck_users_role")),
        sa.CheckConstraint("status IN ('active', 'suspended', 'closed')", name=op.f("ck_users_status")),
        sa.CheckConstraint("recruiter_id IS NULL OR recruiter_id <> user_id", name=op.f("ck_users_not_self_recruited")),
        sa.ForeignKeyConstraint(["recruiter_id"], ["users.user_id"], name=op.f("fk_users_recruiter_id_users")),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_users")),
        sa.UniqueConstraint("referral_code", name=op.f("uq_users_referral_code")),
    )
    op.create_index(op.f("ix_users_recruiter_id"), "users", ["recruiter_id"], unique=False)
    op.create_table(
        "webhook_events",
        sa.Column("webhook_event_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("event_key", sa.Text(), nullable=True),
        sa.Column("event_type", sa.Text(), nullable=True),
        sa.Column("verdict", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw_body", sa.LargeBinary(), nullable=False),
        sa.Column(
            "headers",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("source_address", postgresql.INET(), nullable=True),
        sa.Column(
            "received_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("processed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint("source IN ('phonepe', 'razorpayx')", name=op.f("ck_webhook_events_source")),
        sa.CheckConstraint(
            "verdict IN ('accepted', 'rejected', 'duplicate', 'anomaly')",
            name=op.f("ck_webhook_events_verdict"),
        ),
        sa.PrimaryKeyConstraint("webhook_event_id", name=op.f("pk_webhook_events")),
    )
    op.create_index(op.f("ix_webhook_events_received_at"), "webhook_events", ["received_at"], unique=False)
    op.create_index(
        "uq_webhook_events_source_event_key_accepted",
        "webhook_events",
        ["source", "event_key"],
        unique=True,
        postgresql_where=sa.text("verdict IN ('accepted', 'anomaly')"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("api_key_id", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("request_hash", sa.Text(), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("response_body", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["api_key_id"], ["api_keys.api_key_id"], name=op.f("fk_idempotency_keys_api_key_id_api_keys")
        ),
        sa.PrimaryKeyConstraint("api_key_id", "idempotency_key", name=op.f("pk_idempotency_keys")),
    )
    op.create_table(
        "ledger_lines",
        sa.Column("line_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("account_id", sa.Text(), nullable=False),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_paise <> 0", name=op.f("ck_ledger_lines_amount_paise_nonzero")),
        sa.PrimaryKeyConstraint("line_id", name=op.f("pk_ledger_lines")),
    )
    op.create_index(op.f("ix_ledger_lines_account_id"), "ledger_lines", ["account_id"], unique=False)
    op.create_index(op.f("ix_ledger_lines_entry_id"), "ledger_lines", ["entry_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("notification_id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("dedupe_key", sa.Text(), nullable=False),
        sa.Column("user_id", sa.Text(), nullable=True),
        sa.Column("audience", sa.Text(), server_default="user", nullable=False),
        sa.Column("event_type", sa.Text(), nullable=False),
        sa.Column(
            "payload",
            postgresql.JSONB(astext_type=sa.Text()),
            server_default=sa.text("'{}'::jsonb"),
            nullable=False,
        ),
        sa.Column("status", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            postgresql.TIMESTAMP(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("read", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(audience = 'user') = (user_id IS NOT NULL)",
            name=op.f("ck_notifications_user_audience_has_user"),
        ),
        sa.CheckConstraint("audience IN ('user', 'finance')", name=op.f("ck_notifications_audience")),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed', 'skipped')", name=op.f("ck_notifications_status")),
        sa.ForeignKeyConstraint(["user_id"], ["users.user_id"], name=op.f("fk_notifications_user_id_users")),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notifications_dedupe_key")),
    )
    op.create_index(
        op.f("ix_notifications_status_next_attempt_at"),
        "notifications",
        ["status", "next_attempt_at"],
        unique=False,
    )
    op.create_index(
        op.f("ix_notifications_user_id_created_at"), "notifications", ["user_id", "created_at"], unique=False
    )
    op.create_table(
        "orders",
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("buyer_id", sa.Text(), nullable=False),
        sa.Column("seller_id", sa.Text(), nullable=False),
        sa.Column("listing_id", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("amount_paise", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.Text(), server_default="INR", nullable=False),
        sa.Column("status", sa.Text(), server_default="created", nullable=False),
        sa.Column("gateway_order_id", sa.Text(), nullable=True),
        sa.Column("gateway_transaction_id", sa.Text(), nullable=True),
        sa.Column("payment_mode", sa.Text(), nullable=True),
        sa.Column("paid_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("delivered_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("cancelled_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("payment_failed_at", postgresql.TIMESTAMP(timezone=True), nullable=True),
        sa.Column("created_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", postgresql.TIMESTAMP(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("currency = 'INR'", name=op.f("ck_orders_currency_inr")),
        sa.CheckConstraint(
            "status IN ('created', 'paid', 'payment_failed', 'delivered', 'settled', 'partially_refunded', 'refunded', 'cancelled')",
            name=op.f("ck_orders_status"),
        ),
        sa.CheckConstraint("amount_paise > 0", name=op.f("ck_orders_amount_paise_positive")),
        sa.CheckConstraint("buyer_id <> seller_id", name=op.f("ck_orders_buyer_is_not_seller")),
        sa.ForeignKeyConstraint(["buyer_id"], ["users.user_id"], name=op.f("fk_orders_buyer_id_users")),
        sa.ForeignKeyConstraint(["seller_id"], ["users.user_id"], name=op.f("fk_orders_seller_id_users")),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_orders")),
    )
    op.create_index(op.f("ix_orders_buyer_id_created_at"), "orders", ["buyer_id", "created_at"], unique=False)
    op.create_index(op.f("ix_orders_paid_at"), "orders", ["paid_at"], unique=False)
    op.create_index(op.f("ix_orders_seller_id_created_at"), "orders", ["seller_id", "created_at"], unique=False)
    op.create_index(op.f("ix_orders_status_created_at"), "orders", ["status", "created_at"], unique=False)

    op.execute(LEDGER_TRIGGERS)


def downgrade() -> None:
    op.execute(DROP_LEDGER_TRIGGERS)
    op.drop_index(op.f("ix_orders_status_created_at"), table_name="orders")
    op.drop_index(op.f("ix_orders_seller_id_created_at"), table_name="orders")
    op.drop_index(op.f("ix_orders_paid_at"), table_name="orders")
    op.drop_index(op.f("ix_orders_buyer_id_created_at"), table_name="orders")
    op.drop_table("orders")
    op.drop_index(op.f("ix_notifications_user_id_created_at"), table_name="notifications")
    op.drop_index(op.f("ix_notifications_status_next_attempt_at"), table_name="notifications")
    op.drop_table("notifications")
    op.drop_index(op.f("ix_ledger_lines_entry_id"), table_name="ledger_lines")
    op.drop_index(op.f("ix_ledger_lines_account_id"), table_name="ledger_lines")
    op.drop_table("ledger_lines")
    op.drop_table("idempotency_keys")
    op.drop_index(
        "uq_webhook_events_source_event_key_accepted",
        table_name="webhook_events",
        postgresql_where=sa.text("verdict IN ('accepted', 'anomaly')"),
    )
    op.drop_index(op.f("ix_webhook_events_received_at"), table_name="webhook_events")
    op.drop_table("webhook_events")
    op.drop_index(op.f("ix_users_recruiter_id"), table_name="users")
    op.drop_table("users")
    op.drop_index(op.f("ix_ledger_accounts_payee_id"), table_name="ledger_accounts")
    op.drop_table("ledger_accounts")
    op.drop_index(op.f("ix_journal_entries_reference_id"), table_name="journal_entries")
    op.drop_index(op.f("ix_journal_entries_entry_type_occurred_at"), table_name="journal_entries")
    op.drop_table("journal_entries")
    op.drop_table("fee_schedules")
    op.drop_index(op.f("ix_audit_log_target_type_target_id"), table_name="audit_log")
    op.drop_table("audit_log")
    op.drop_table("api_keys")
