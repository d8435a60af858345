"""Adding, replacing and withdrawing fee schedule versions: finance's one way to change a fee.

A version takes effect from a future IST date only, and a version in effect is never edited or
removed: the nightly run has already captured, settled and paid under it, and every captured order
names the version it used, so history must stay recomputable. A version still in the future may be
replaced or withdrawn (nothing has used it yet). PostgreSQL enforces the same rules with the real
date (sql/objects/fee_schedule_guard.sql); the checks here give the clear refusal first.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa

from domain.fees.schedule import FEE_FIELDS, FeeSchedule, in_effect
from domain.fees.tables import fee_schedules
from domain.money import BPS_DENOMINATOR
from domain.platform.audit import audit
from domain.platform.errors import DomainError

MAX_HOLD_DAYS = 90


class FeeScheduleError(DomainError):
    """A fee schedule change the rules refuse; nothing was changed."""

    codes = frozenset(
        {"fee_schedule_not_future", "fee_schedule_exists", "fee_schedule_invalid", "fee_schedule_not_found"}
    )


@dataclass(frozen=True, slots=True)
class FeeChange:
    """The values a new version sets; None carries the value over from the version it follows."""

    platform_fee_bps: int | None = None
    gateway_fee_bps: int | None = None
    gateway_gst_bps: int | None = None
    scout_bounty_paise: int | None = None
    min_payout_paise: int | None = None
    hold_days: int | None = None

    def applied_to(self, base: FeeSchedule) -> dict[str, int]:
        given = dataclasses.asdict(self)
        return {name: base.values()[name] if given[name] is None else int(given[name]) for name in FEE_FIELDS}


@dataclass(frozen=True, slots=True)
class AddedVersion:
    version: FeeSchedule
    carried_from: FeeSchedule  # the version in effect on that date before; the one replaced, if `replaced`
    replaced: bool


def validate(values: dict[str, int]) -> None:
    """The bounds of a schedule (those of the table's constraints and of the settings), as clear refusals."""
    for name in ("platform_fee_bps", "gateway_fee_bps", "gateway_gst_bps"):
        if not 0 <= values[name] <= BPS_DENOMINATOR:
            raise FeeScheduleError("fee_schedule_invalid", f"{name} must be between 0 and {BPS_DENOMINATOR}")
    if values["platform_fee_bps"] + values["gateway_fee_bps"] > BPS_DENOMINATOR:
        raise FeeScheduleError("fee_schedule_invalid", "the platform and gateway fees together exceed 100%")
    if values["scout_bounty_paise"] < 0:
        raise FeeScheduleError("fee_schedule_invalid", "scout_bounty_paise must not be negative")
    if values["min_payout_paise"] < 1:
        raise FeeScheduleError("fee_schedule_invalid", "min_payout_paise must be at least 1")
    if not 0 <= values["hold_days"] <= MAX_HOLD_DAYS:
        raise FeeScheduleError("fee_schedule_invalid", f"hold_days must be between 0 and {MAX_HOLD_DAYS}")


def _require_future(effective_from: dt.date, today: dt.date) -> None:
    if effective_from <= today:
        raise FeeScheduleError(
            "fee_schedule_not_future",
            f"a fee schedule version must take effect after today ({today}, IST); {effective_from} is not",
        )


def _lock(conn: sa.Connection) -> None:
    """One change of the schedule at a time; readers (the nightly run) are not blocked."""
    conn.execute(sa.text("LOCK TABLE fee_schedules IN EXCLUSIVE MODE"))


def add_version(
    conn: sa.Connection,
    effective_from: dt.date,
    change: FeeChange,
    *,
    today: dt.date,
    actor: str,
    replace: bool = False,
) -> AddedVersion:
    """A new version effective from `effective_from` (after `today`), the values not given carried over
    from the version in effect on that date. With `replace`, a future version of that very date is
    replaced (its values are the ones carried over); without, such a version is refused."""
    _require_future(effective_from, today)
    _lock(conn)
    base = in_effect(conn, effective_from)
    replaced = base if base.effective_from == effective_from else None
    if replaced is not None and not replace:
        raise FeeScheduleError(
            "fee_schedule_exists",
            f"a version already takes effect on {effective_from}; ask to replace it (--replace, or replace: true "
            "in the job's config)",
        )
    values = change.applied_to(base)
    validate(values)
    if replaced is not None:
        conn.execute(sa.delete(fee_schedules).where(fee_schedules.c.fee_schedule_id == replaced.fee_schedule_id))
    added = _insert(conn, effective_from, values)
    before = None if replaced is None else {"fee_schedule_id": replaced.fee_schedule_id, **replaced.values()}
    after = {"effective_from": effective_from, **values}
    audit(conn, actor, "fee_schedule.add", "fee_schedule", str(added.fee_schedule_id), before, after)
    return AddedVersion(added, base, replaced is not None)


def _insert(conn: sa.Connection, effective_from: dt.date, values: dict[str, int]) -> FeeSchedule:
    inserted = sa.insert(fee_schedules).values(effective_from=effective_from, **values)
    fee_schedule_id = conn.execute(inserted.returning(fee_schedules.c.fee_schedule_id)).scalar_one()
    return FeeSchedule(fee_schedule_id=int(fee_schedule_id), effective_from=effective_from, **values)


def withdraw_version(conn: sa.Connection, effective_from: dt.date, *, today: dt.date, actor: str) -> FeeSchedule:
    """Remove the future version effective from `effective_from`; the one before it stays in effect."""
    _require_future(effective_from, today)
    _lock(conn)
    found = in_effect(conn, effective_from)
    if found.effective_from != effective_from:
        raise FeeScheduleError("fee_schedule_not_found", f"no version takes effect on {effective_from}")
    conn.execute(sa.delete(fee_schedules).where(fee_schedules.c.fee_schedule_id == found.fee_schedule_id))
    before = {"effective_from": effective_from, **found.values()}
    audit(conn, actor, "fee_schedule.withdraw", "fee_schedule", str(found.fee_schedule_id), before, None)
    return found
