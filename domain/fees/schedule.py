"""Versioned fee schedules and the one lookup of the schedule in effect on an IST day.

A schedule version is a row effective from an IST date; versions are never edited once in effect, a
change is a new version (`domain.fees.versions`). The first version is seeded from the settings on
the first `settle migrate`; after that the settings seed nothing, and `settings_differences` tells
the operator when they no longer match the schedule in effect.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from domain.fees.tables import fee_schedules
from domain.platform.settings import Settings

FIRST_SCHEDULE_DATE = dt.date(2000, 1, 1)

# The schedule's values, in the order people read them; each is seeded by the setting of its name.
FEE_FIELDS = (
    "platform_fee_bps",
    "gateway_fee_bps",
    "gateway_gst_bps",
    "scout_bounty_paise",
    "min_payout_paise",
    "hold_days",
)


class NoScheduleInEffect(LookupError):
    """No fee schedule is in effect on the day asked for: the database was never seeded."""


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    fee_schedule_id: int
    effective_from: dt.date
    platform_fee_bps: int
    gateway_fee_bps: int
    gateway_gst_bps: int
    scout_bounty_paise: int
    min_payout_paise: int
    hold_days: int

    def values(self) -> dict[str, int]:
        """The fee values alone (no id, no date), by FEE_FIELDS name."""
        return {name: int(getattr(self, name)) for name in FEE_FIELDS}


@dataclass(frozen=True, slots=True)
class SettingDifference:
    """A fee setting whose value is not the one in effect: the environment only seeds the first schedule."""

    variable: str
    setting_value: int
    in_effect_value: int


def _schedule(row: sa.Row[tuple[object, ...]]) -> FeeSchedule:
    return FeeSchedule(**{field: getattr(row, field) for field in FeeSchedule.__slots__})


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
    return _schedule(row)


def all_versions(conn: sa.Connection) -> list[FeeSchedule]:
    """Every version, oldest first: each is in effect until the next one's effective date."""
    rows = conn.execute(sa.select(fee_schedules).order_by(fee_schedules.c.effective_from))
    return [_schedule(row) for row in rows]


def seed_fee_schedule(conn: sa.Connection, settings: Settings) -> bool:
    """Create the first fee schedule from the settings; later versions are new rows, never edits.

    The database accepts a version effective today or earlier only as this seed: dated
    FIRST_SCHEDULE_DATE, into an empty table (sql/objects/fee_schedule_guard.sql)."""
    if conn.execute(sa.select(sa.func.count()).select_from(fee_schedules)).scalar_one():
        return False
    conn.execute(
        sa.insert(fee_schedules).values(
            effective_from=FIRST_SCHEDULE_DATE, **{name: getattr(settings, name) for name in FEE_FIELDS}
        )
    )
    return True


def settings_differences(conn: sa.Connection, settings: Settings, day: dt.date) -> list[SettingDifference]:
    """The fee settings whose values differ from the schedule in effect on `day`, in FEE_FIELDS order.

    Changing a fee variable after the first migrate changes nothing (the schedule is in the database),
    so a difference is worth a warning pointing at `settle fees add`."""
    schedule = in_effect(conn, day)
    return [
        SettingDifference(name.upper(), int(getattr(settings, name)), value)
        for name, value in schedule.values().items()
        if int(getattr(settings, name)) != value
    ]
