"""Table definitions (SQLAlchemy Core). Alembic migrations create them; tests check there is no drift.

Money columns are BIGINT paise and end in `_paise`; times are `timestamptz` ending in `_at`.
Constraints carry names from the metadata's naming convention so migrations are reproducible.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import INET, JSONB, TIMESTAMP

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

OWNED_SCHEMAS = (None, "analytics")


def _include_owned(name: str | None, type_: str, parent_names: object) -> bool:
    return type_ != "schema" or name in OWNED_SCHEMAS


COMPARE_OPTIONS: dict[str, object] = {"include_schemas": True, "include_name": _include_owned}
"""Alembic autogenerate options: compare our schemas (public and analytics), nothing else."""

USER_ROLES = ("buyer", "seller", "scout")
USER_STATUSES = ("active", "suspended", "closed")
REFERRAL_SOURCES = ("link", "code", "admin", "none")
ORDER_STATUSES = (
    "created",
    "paid",
    "payment_failed",
    "delivered",
    "settled",
    "partially_refunded",
    "refunded",
    "cancelled",
)
ACCOUNT_TYPES = (
    "gateway_clearing",
    "bank",
    "payouts_in_transit",
    "seller_payable",
    "scout_payable",
    "platform_revenue",
    "bounty_expense",
    "recon_suspense",
)
API_KEY_ROLES = ("client", "admin")
NOTIFICATION_STATUSES = ("pending", "sent", "failed", "skipped")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _created_at() -> Column[object]:
    return Column("created_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now())


users = Table(
    "users",
    metadata,
    Column("user_id", Text, primary_key=True),
    Column("role", Text, nullable=False),
    Column("name", Text, nullable=False),
    Column("email", Text, nullable=False),
    Column("phone", Text),
    Column("status", Text, nullable=False, server_default="active"),
    Column("referral_code", Text, unique=True),
    Column("recruiter_id", Text, ForeignKey("users.user_id")),
    Column("referral_source", Text, nullable=False, server_default="none"),
    Column("payout_destination", JSONB),
    _created_at(),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(_in("role", USER_ROLES), name="role"),
    CheckConstraint(_in("status", USER_STATUSES), name="status"),
    CheckConstraint(_in("referral_source", REFERRAL_SOURCES), name="referral_source"),
    CheckConstraint("recruiter_id IS NULL OR recruiter_id <> user_id", name="not_self_recruited"),
    CheckConstraint("referral_code IS NULL OR role = 'scout'", name="referral_code_for_scouts"),
    Index(None, "recruiter_id"),
)

fee_schedules = Table(
    "fee_schedules",
    metadata,
    Column("fee_schedule_id", BigInteger, primary_key=True, autoincrement=True),
    Column("effective_from", Date, nullable=False, unique=True),
    Column("platform_fee_bps", Integer, nullable=False),
    Column("gateway_fee_bps", Integer, nullable=False),
    Column("scout_bounty_paise", BigInteger, nullable=False),
    Column("min_payout_paise", BigInteger, nullable=False),
    Column("hold_days", Integer, nullable=False),
    _created_at(),
    CheckConstraint("platform_fee_bps BETWEEN 0 AND 10000", name="platform_fee_bps"),
    CheckConstraint("gateway_fee_bps BETWEEN 0 AND 10000", name="gateway_fee_bps"),
    CheckConstraint("platform_fee_bps + gateway_fee_bps <= 10000", name="fees_within_gross"),
    CheckConstraint("scout_bounty_paise >= 0", name="scout_bounty_paise"),
    CheckConstraint("min_payout_paise > 0", name="min_payout_paise"),
    CheckConstraint("hold_days >= 0", name="hold_days"),
)

orders = Table(
    "orders",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("buyer_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("seller_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("listing_id", Text, nullable=False),
    Column("title", Text),
    Column("amount_paise", BigInteger, nullable=False),
    Column("currency", Text, nullable=False, server_default="INR"),
    Column("status", Text, nullable=False, server_default="created"),
    Column("gateway_order_id", Text),
    Column("gateway_transaction_id", Text),
    Column("payment_mode", Text),
    Column("paid_at", TIMESTAMP(timezone=True)),
    Column("delivered_at", TIMESTAMP(timezone=True)),
    Column("cancelled_at", TIMESTAMP(timezone=True)),
    Column("payment_failed_at", TIMESTAMP(timezone=True)),
    _created_at(),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    # The API key that created the order and its Idempotency-Key, on the order row itself, so creation
    # is one INSERT. No foreign key on api_key_id: keys are never deleted (only revoked), and the FK
    # check would lock the one hot api_keys row on every order.
    Column("api_key_id", BigInteger),
    Column("idempotency_key", Text),
    Column("request_hash", Text),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("currency = 'INR'", name="currency_inr"),
    CheckConstraint(_in("status", ORDER_STATUSES), name="status"),
    CheckConstraint("buyer_id <> seller_id", name="buyer_is_not_seller"),
    Index(None, "seller_id", "created_at"),
    Index(None, "buyer_id", "created_at"),
    Index(None, "status", "created_at"),
    Index(None, "paid_at"),
    Index(None, "created_at", "order_id"),
    Index(None, "api_key_id", "idempotency_key", unique=True),
)

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
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("api_key_id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("role", Text, nullable=False),
    Column("key_hash", Text, nullable=False, unique=True),
    Column("key_prefix", Text, nullable=False),
    _created_at(),
    Column("revoked_at", TIMESTAMP(timezone=True)),
    CheckConstraint(_in("role", API_KEY_ROLES), name="role"),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("api_key_id", BigInteger, ForeignKey("api_keys.api_key_id"), primary_key=True),
    Column("idempotency_key", Text, primary_key=True),
    Column("request_hash", Text, nullable=False),
    Column("response_status", Integer, nullable=False),
    Column("response_body", JSONB, nullable=False),
    _created_at(),
)

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("account_id", Text, primary_key=True),
    Column("account_type", Text, nullable=False),
    Column("payee_id", Text),
    _created_at(),
    CheckConstraint(_in("account_type", ACCOUNT_TYPES), name="account_type"),
    CheckConstraint(
        "(account_type IN ('seller_payable', 'scout_payable')) = (payee_id IS NOT NULL)",
        name="payee_accounts_name_a_payee",
    ),
    Index(None, "payee_id"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("entry_id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("entry_type", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("occurred_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    _created_at(),
    Column("reference_id", Text),
    Index(None, "entry_type", "occurred_at"),
    Index(None, "reference_id"),
)

ledger_lines = Table(
    "ledger_lines",
    metadata,
    Column("line_id", BigInteger, primary_key=True, autoincrement=True),
    # References to journal_entries and ledger_accounts are checked once per statement by the trigger
    # ledger_lines_balance (set-based) instead of by per-row foreign keys, which cost a query per line.
    Column("entry_id", BigInteger, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    CheckConstraint("amount_paise <> 0", name="amount_paise_nonzero"),
    Index(None, "entry_id"),
    Index(None, "account_id"),
)

audit_log = Table(
    "audit_log",
    metadata,
    Column("audit_id", BigInteger, primary_key=True, autoincrement=True),
    Column("actor", Text, nullable=False),
    Column("action", Text, nullable=False),
    Column("target_type", Text, nullable=False),
    Column("target_id", Text, nullable=False),
    Column("before", JSONB),
    Column("after", JSONB),
    Column("request_id", Text),
    _created_at(),
    Index(None, "target_type", "target_id"),
)

notifications = Table(
    "notifications",
    metadata,
    Column("notification_id", BigInteger, primary_key=True, autoincrement=True),
    Column("dedupe_key", Text, nullable=False, unique=True),
    Column("user_id", Text, ForeignKey("users.user_id")),
    Column("audience", Text, nullable=False, server_default="user"),
    Column("event_type", Text, nullable=False),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("read", Boolean, nullable=False, server_default=text("false")),
    _created_at(),
    Column("sent_at", TIMESTAMP(timezone=True)),
    CheckConstraint(_in("status", NOTIFICATION_STATUSES), name="status"),
    CheckConstraint("audience IN ('user', 'finance')", name="audience"),
    CheckConstraint("(audience = 'user') = (user_id IS NOT NULL)", name="user_audience_has_user"),
    Index(None, "status", "next_attempt_at"),
    Index(None, "user_id", "created_at"),
)

rate_limit_counters = Table(
    "rate_limit_counters",
    metadata,
    Column("bucket", Text, primary_key=True),
    Column("window_started_at", TIMESTAMP(timezone=True), primary_key=True),
    Column("hits", BigInteger, nullable=False),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("hits >= 0", name="hits"),
    Index(None, "window_started_at"),
)

payment_confirmations = Table(
    "payment_confirmations",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id"), primary_key=True),
    Column("confirmed", Boolean, nullable=False),
    Column("gateway_state", Text),
    Column("gateway_amount_paise", BigInteger),
    Column("gateway_transaction_id", Text),
    Column("reason", Text, nullable=False),
    Column("checked_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="1"),
    Index(None, "confirmed", "checked_at"),
)

settlement_lines = Table(
    "settlement_lines",
    metadata,
    Column("order_id", Text, ForeignKey("orders.order_id"), primary_key=True),
    Column("settlement_date", Date, nullable=False),
    Column("seller_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("gross_paise", BigInteger, nullable=False),
    Column("platform_fee_paise", BigInteger, nullable=False),
    Column("gateway_fee_paise", BigInteger, nullable=False),
    Column("seller_net_paise", BigInteger, nullable=False),
    Column("fee_schedule_id", BigInteger, ForeignKey("fee_schedules.fee_schedule_id"), nullable=False),
    _created_at(),
    CheckConstraint("gross_paise > 0", name="gross_paise_positive"),
    CheckConstraint("platform_fee_paise >= 0 AND gateway_fee_paise >= 0", name="fees_not_negative"),
    CheckConstraint("seller_net_paise >= 0", name="seller_net_not_negative"),
    CheckConstraint("seller_net_paise = gross_paise - platform_fee_paise - gateway_fee_paise", name="parts_add_up"),
    Index(None, "settlement_date", "seller_id"),
    Index(None, "seller_id", "settlement_date"),
)

bounties = Table(
    "bounties",
    metadata,
    Column("bounty_id", BigInteger, primary_key=True, autoincrement=True),
    Column("recruit_id", Text, ForeignKey("users.user_id"), nullable=False, unique=True),
    Column("scout_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("order_id", Text, ForeignKey("orders.order_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("fee_schedule_id", BigInteger, ForeignKey("fee_schedules.fee_schedule_id"), nullable=False),
    Column("earned_date", Date, nullable=False),
    _created_at(),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("recruit_id <> scout_id", name="not_self_referral"),
    Index(None, "scout_id"),
    Index(None, "earned_date"),
)

check_results = Table(
    "check_results",
    metadata,
    Column("check_result_id", BigInteger, primary_key=True, autoincrement=True),
    Column("run_id", Text),
    Column("partition_key", Text),
    Column("asset_key", Text, nullable=False),
    Column("check_name", Text, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("checked_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "asset_key", "partition_key", "checked_at"),
)

ANALYTICS = "analytics"

daily_revenue = Table(
    "daily_revenue",
    metadata,
    Column("day", Date, primary_key=True),
    Column("orders_paid", BigInteger, nullable=False),
    Column("gmv_paise", BigInteger, nullable=False),
    Column("platform_fee_paise", BigInteger, nullable=False),
    Column("gateway_fee_paise", BigInteger, nullable=False),
    Column("refunds_paise", BigInteger, nullable=False),
    Column("refunded_platform_fee_paise", BigInteger, nullable=False),
    Column("bounty_expense_paise", BigInteger, nullable=False),
    Column("net_revenue_paise", BigInteger, nullable=False),
    Column("refreshed_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    schema=ANALYTICS,
)

seller_earnings_daily = Table(
    "seller_earnings_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("seller_id", Text, primary_key=True),
    Column("orders_settled", BigInteger, nullable=False),
    Column("gross_paise", BigInteger, nullable=False),
    Column("platform_fee_paise", BigInteger, nullable=False),
    Column("gateway_fee_paise", BigInteger, nullable=False),
    Column("seller_net_paise", BigInteger, nullable=False),
    schema=ANALYTICS,
)

payment_success_daily = Table(
    "payment_success_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("payments_succeeded", BigInteger, nullable=False),
    Column("payments_failed", BigInteger, nullable=False),
    Column("success_rate_bps", Integer),
    schema=ANALYTICS,
)

order_completion_daily = Table(
    "order_completion_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("orders_created", BigInteger, nullable=False),
    Column("orders_paid", BigInteger, nullable=False),
    Column("orders_completed", BigInteger, nullable=False),
    Column("orders_cancelled", BigInteger, nullable=False),
    Column("orders_payment_failed", BigInteger, nullable=False),
    Column("completion_rate_bps", Integer),
    schema=ANALYTICS,
)

scout_leaderboard = Table(
    "scout_leaderboard",
    metadata,
    Column("scout_id", Text, primary_key=True),
    Column("scout_name", Text, nullable=False),
    Column("recruits", BigInteger, nullable=False),
    Column("bounties_earned", BigInteger, nullable=False),
    Column("bounty_paise", BigInteger, nullable=False),
    Column("rank", BigInteger, nullable=False),
    Column("refreshed_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    schema=ANALYTICS,
)

PAYEE_TYPES = ("seller", "scout")
PAYOUT_STATUSES = ("pending", "processing", "completed", "failed", "cancelled", "reversed")
PAYOUT_ITEM_TYPES = ("settlement_line", "bounty", "clawback", "adjustment")
PAYOUT_ATTEMPT_OUTCOMES = ("accepted", "retriable", "rejected", "unknown", "found", "not_found")
PAYOUT_REQUEST_STATUSES = ("requested", "scheduled", "rejected", "cancelled")

payouts = Table(
    "payouts",
    metadata,
    Column("payout_id", Text, primary_key=True),
    Column("payee_type", Text, nullable=False),
    Column("payee_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default="pending"),
    Column("batch_date", Date, nullable=False),
    Column("retry_of_payout_id", Text, ForeignKey("payouts.payout_id")),
    Column("destination", JSONB, nullable=False),
    Column("attempt_count", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("gateway_payout_id", Text, unique=True),
    Column("gateway_status", Text),
    Column("gateway_response", JSONB),
    Column("utr", Text),
    Column("failure_reason", Text),
    _created_at(),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("submitted_at", TIMESTAMP(timezone=True)),
    Column("processed_at", TIMESTAMP(timezone=True)),
    Column("failed_at", TIMESTAMP(timezone=True)),
    Column("cancelled_at", TIMESTAMP(timezone=True)),
    Column("reversed_at", TIMESTAMP(timezone=True)),
    CheckConstraint(_in("payee_type", PAYEE_TYPES), name="payee_type"),
    CheckConstraint(_in("status", PAYOUT_STATUSES), name="status"),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("attempt_count >= 0", name="attempt_count"),
    CheckConstraint("retry_of_payout_id IS NULL OR retry_of_payout_id <> payout_id", name="not_own_retry"),
    Index(
        "uq_payouts_payee_batch_date",
        "payee_type",
        "payee_id",
        "batch_date",
        unique=True,
        postgresql_where=text("retry_of_payout_id IS NULL"),
    ),
    Index(None, "status", "next_attempt_at"),
    Index(None, "payee_id", "created_at"),
    Index(None, "batch_date", "status"),
)

payout_items = Table(
    "payout_items",
    metadata,
    Column("payout_item_id", BigInteger, primary_key=True, autoincrement=True),
    Column("payout_id", Text, ForeignKey("payouts.payout_id"), nullable=False),
    Column("entry_id", BigInteger, ForeignKey("journal_entries.entry_id"), nullable=False),
    Column("item_type", Text, nullable=False),
    Column("order_id", Text, ForeignKey("orders.order_id")),
    Column("bounty_id", BigInteger, ForeignKey("bounties.bounty_id")),
    Column("refund_id", Text),
    Column("amount_paise", BigInteger, nullable=False),
    Column("released_at", TIMESTAMP(timezone=True)),
    _created_at(),
    CheckConstraint(_in("item_type", PAYOUT_ITEM_TYPES), name="item_type"),
    CheckConstraint("amount_paise <> 0", name="amount_paise_nonzero"),
    Index(None, "payout_id"),
    Index(None, "entry_id"),
    Index(None, "order_id"),
)

payout_attempts = Table(
    "payout_attempts",
    metadata,
    Column("payout_attempt_id", BigInteger, primary_key=True, autoincrement=True),
    Column("payout_id", Text, ForeignKey("payouts.payout_id"), nullable=False),
    Column("attempt_number", Integer, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("outcome", Text),
    Column("http_status", Integer),
    Column("gateway_error_code", Text),
    Column("gateway_payout_id", Text),
    Column("response", JSONB),
    Column("error", Text),
    Column("started_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Column("answered_at", TIMESTAMP(timezone=True)),
    CheckConstraint(_in("outcome", PAYOUT_ATTEMPT_OUTCOMES), name="outcome"),
    CheckConstraint("attempt_number >= 1", name="attempt_number"),
    Index("uq_payout_attempts_payout_id_attempt_number", "payout_id", "attempt_number", unique=True),
    Index(None, "started_at"),
)

scout_payout_requests = Table(
    "scout_payout_requests",
    metadata,
    Column("scout_payout_request_id", Text, primary_key=True),
    Column("scout_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default="requested"),
    Column("payout_id", Text, ForeignKey("payouts.payout_id")),
    Column("reason", Text),
    _created_at(),
    Column("updated_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(_in("status", PAYOUT_REQUEST_STATUSES), name="status"),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("(status = 'scheduled') = (payout_id IS NOT NULL)", name="scheduled_has_payout"),
    Index(None, "scout_id", "status"),
    Index(None, "payout_id"),
)

payee_holds = Table(
    "payee_holds",
    metadata,
    Column("payee_hold_id", BigInteger, primary_key=True, autoincrement=True),
    Column("payee_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("reason", Text, nullable=False),
    Column("held_by", Text, nullable=False),
    _created_at(),
    Column("released_at", TIMESTAMP(timezone=True)),
    Column("released_by", Text),
    Index("uq_payee_holds_active_payee_id", "payee_id", unique=True, postgresql_where=text("released_at IS NULL")),
)

payout_health_daily = Table(
    "payout_health_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("payee_type", Text, primary_key=True),
    Column("status", Text, primary_key=True),
    Column("failure_reason", Text, primary_key=True),
    Column("payouts", BigInteger, nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("attempts", BigInteger, nullable=False),
    Column("refreshed_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    schema=ANALYTICS,
)
