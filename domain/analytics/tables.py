"""The `analytics` schema analysts read: daily revenue and health tables the pipeline rebuilds per day."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Date, Integer, Table, Text, func
from sqlalchemy.dialects.postgresql import TIMESTAMP

from domain.platform.tables import metadata

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
    Column("stray_gateway_fee_paise", BigInteger, nullable=False, server_default="0"),
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

refunds_daily = Table(
    "refunds_daily",
    metadata,
    Column("day", Date, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("reason", Text, primary_key=True),
    Column("refunds_completed", BigInteger, nullable=False),
    Column("refund_paise", BigInteger, nullable=False),
    Column("refunded_platform_fee_paise", BigInteger, nullable=False),
    Column("clawback_paise", BigInteger, nullable=False),
    Column("refunds_failed", BigInteger, nullable=False),
    Column("failed_paise", BigInteger, nullable=False),
    Column("refreshed_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    schema=ANALYTICS,
)

# One row per day of a fee what-if run (domain/analytics/fee_what_if.py): the day's captured orders
# and earned bounties as settled (actual) and as a draft schedule would have settled them (draft),
# with draft - actual. A NULL draft parameter means "as in effect": each order keeps its own schedule.
fee_what_if = Table(
    "fee_what_if",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column("day", Date, primary_key=True),
    Column("draft_platform_fee_bps", Integer),
    Column("draft_gateway_fee_bps", Integer),
    Column("draft_scout_bounty_paise", BigInteger),
    Column("orders", BigInteger, nullable=False),
    Column("gmv_paise", BigInteger, nullable=False),
    Column("actual_platform_fee_paise", BigInteger, nullable=False),
    Column("draft_platform_fee_paise", BigInteger, nullable=False),
    Column("platform_fee_diff_paise", BigInteger, nullable=False),
    Column("actual_gateway_fee_paise", BigInteger, nullable=False),
    Column("draft_gateway_fee_paise", BigInteger, nullable=False),
    Column("gateway_fee_diff_paise", BigInteger, nullable=False),
    Column("actual_seller_net_paise", BigInteger, nullable=False),
    Column("draft_seller_net_paise", BigInteger, nullable=False),
    Column("seller_net_diff_paise", BigInteger, nullable=False),
    Column("bounties", BigInteger, nullable=False),
    Column("actual_bounty_paise", BigInteger, nullable=False),
    Column("draft_bounty_paise", BigInteger, nullable=False),
    Column("bounty_diff_paise", BigInteger, nullable=False),
    Column("computed_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    schema=ANALYTICS,
)
