"""Versioned fee schedules and the one lookup of the schedule in effect on an IST day.

A schedule version is a row effective from an IST date; versions are never edited, a change is a new
version. The first version is seeded from the settings on the first `settle migrate`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from domain.fees.tables import fee_schedules
from domain.platform.settings import Settings

FIRST_SCHEDULE_DATE = dt.date(2000, 1, 1)


class NoScheduleInEffect(LookupError):
    """No fee schedule is in effect on the day asked for: the database was never seeded."""


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    fee_schedule_id: int
    effective_from: dt.date
    platform_fee_bps: int
    gateway_fee_bps: int
    scout_bounty_paise: int
    min_payout_paise: int
    hold_days: int


def in_effect(conn: sa.Connection, day: dt.date) -> FeeSchedule:
    """The schedule whose effective date is the latest on or before `day`."""
    row = conn.execute(
        sa.select(fee_schedules)
        .where(fee_schedules.c.effective_from <= day)
        .order_by(fee_schedules.c.effective_from.desc())
        .limit(1)
    ).first()
    if row is None:
        raise NoScheduleInEffect(f"no fee schedule is in effect on {day}")
    return FeeSchedule(**{field: getattr(row, field) for field in FeeSchedule.__slots__})


def seed_fee_schedule(conn: sa.Connection, settings: Settings) -> bool:
    """Create the first fee schedule from the settings; later versions are new rows, never edits."""
    if conn.execute(sa.select(sa.func.count()).select_from(fee_schedules)).scalar_one():
        return False
    conn.execute(
        sa.insert(fee_schedules).values(
            effective_from=FIRST_SCHEDULE_DATE,
            platform_fee_bps=settings.platform_fee_bps,
            gateway_fee_bps=settings.gateway_fee_bps,
            gateway_gst_bps=settings.gateway_gst_bps,
            scout_bounty_paise=settings.scout_bounty_paise,
            min_payout_paise=settings.min_payout_paise,
            hold_days=settings.hold_days,
        )
    )
    return True
