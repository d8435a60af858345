"""Settlement: payment confirmations from the gateway, the per-order subledger of captures and
settlements, and scout bounties.

`captures` and `settlements` are the subledger under the general ledger's per-seller-day capture
entries: one immutable row per order and fact, naming the entry it was posted under.
`settlement_groups` sums each seller-day's settled orders once (the payee item it is paid as, the
seller's statement, the analysts' earnings), so no later step re-reads the day's orders. They carry no
per-row foreign keys (a lookup per row, a million a night): the nightly control totals check that
every row names an existing entry and order, set-based, as the ledger's trigger does for its lines.
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
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import TIMESTAMP

from domain.platform.tables import created_at_column, metadata

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
    Column("confirmed_at", TIMESTAMP(timezone=True)),
    Column("next_check_at", TIMESTAMP(timezone=True)),
    CheckConstraint("confirmed = (confirmed_at IS NOT NULL)", name="confirmed_has_time"),
    Index(None, "confirmed", "checked_at"),
    Index("ix_payment_confirmations_confirmed_at", "confirmed_at", postgresql_where=text("confirmed")),
    Index(
        "ix_payment_confirmations_next_check_at", "next_check_at", postgresql_where=text("next_check_at IS NOT NULL")
    ),
)

captures = Table(
    "captures",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("capture_date", Date, nullable=False),
    Column("seller_id", Text, nullable=False),
    Column("paid_at", TIMESTAMP(timezone=True), nullable=False),
    Column("gross_paise", BigInteger, nullable=False),
    Column("platform_fee_paise", BigInteger, nullable=False),
    Column("gateway_fee_paise", BigInteger, nullable=False),
    Column("seller_net_paise", BigInteger, nullable=False),
    Column("fee_schedule_id", BigInteger, nullable=False),
    Column("entry_id", BigInteger, nullable=False),
    created_at_column(),
    CheckConstraint("gross_paise > 0", name="gross_paise_positive"),
    CheckConstraint("platform_fee_paise >= 0 AND gateway_fee_paise >= 0", name="fees_not_negative"),
    CheckConstraint("seller_net_paise >= 0", name="seller_net_not_negative"),
    CheckConstraint("seller_net_paise = gross_paise - platform_fee_paise - gateway_fee_paise", name="parts_add_up"),
    Index(None, "capture_date", "seller_id"),
)

settlements = Table(
    "settlements",
    metadata,
    Column("order_id", Text, primary_key=True),
    Column("settlement_date", Date, nullable=False),
    Column("seller_id", Text, nullable=False),
    Column("payee_item_key", Text, nullable=False),
    created_at_column(),
    Index(None, "settlement_date", "seller_id"),
)

settlement_groups = Table(
    "settlement_groups",
    metadata,
    Column("payee_item_key", Text, primary_key=True),
    Column("settlement_date", Date, nullable=False),
    Column("seller_id", Text, ForeignKey("users.user_id"), nullable=False),
    Column("orders", BigInteger, nullable=False),
    Column("gross_paise", BigInteger, nullable=False),
    Column("platform_fee_paise", BigInteger, nullable=False),
    Column("gateway_fee_paise", BigInteger, nullable=False),
    Column("net_paise", BigInteger, nullable=False),
    created_at_column(),
    CheckConstraint("net_paise = gross_paise - platform_fee_paise - gateway_fee_paise", name="parts_add_up"),
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
    created_at_column(),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("recruit_id <> scout_id", name="not_self_referral"),
    Index(None, "scout_id"),
    Index(None, "earned_date"),
)
