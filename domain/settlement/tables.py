"""Settlement: payment confirmations from the gateway, settlement lines and scout bounties."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Integer, Table, Text, func
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
    created_at_column(),
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
    created_at_column(),
    CheckConstraint("amount_paise > 0", name="amount_paise_positive"),
    CheckConstraint("recruit_id <> scout_id", name="not_self_referral"),
    Index(None, "scout_id"),
    Index(None, "earned_date"),
)
