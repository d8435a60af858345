"""Versioned fee schedules: a row per version, effective from an IST date, never edited once in effect."""

from __future__ import annotations

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Integer, Table

from domain.platform.tables import created_at_column, metadata

fee_schedules = Table(
    "fee_schedules",
    metadata,
    Column("fee_schedule_id", BigInteger, primary_key=True, autoincrement=True),
    Column("effective_from", Date, nullable=False, unique=True),
    Column("platform_fee_bps", Integer, nullable=False),
    Column("gateway_fee_bps", Integer, nullable=False),
    Column("gateway_gst_bps", Integer, nullable=False, server_default="1800"),
    Column("scout_bounty_paise", BigInteger, nullable=False),
    Column("min_payout_paise", BigInteger, nullable=False),
    Column("hold_days", Integer, nullable=False),
    created_at_column(),
    CheckConstraint("platform_fee_bps BETWEEN 0 AND 10000", name="platform_fee_bps"),
    CheckConstraint("gateway_fee_bps BETWEEN 0 AND 10000", name="gateway_fee_bps"),
    CheckConstraint("gateway_gst_bps BETWEEN 0 AND 10000", name="gateway_gst_bps"),
    CheckConstraint("platform_fee_bps + gateway_fee_bps <= 10000", name="fees_within_gross"),
    CheckConstraint("scout_bounty_paise >= 0", name="scout_bounty_paise"),
    CheckConstraint("min_payout_paise > 0", name="min_payout_paise"),
    CheckConstraint("hold_days >= 0", name="hold_days"),
)
