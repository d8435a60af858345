"""Fee what-if: what a range of days would have settled under a draft fee schedule, next to what it did.

The comparison is read from the subledger (every captured order's gross and posted fees, every
bounty earned) inside a READ ONLY transaction, so nothing can be posted however the code evolves; the
draft's figures come from the one fee function, `domain.money.fee_breakdown`, so a draft equal to
the schedule in effect reproduces the posted figures to the paisa. Only the comparison is written,
to `analytics.fee_what_if`, in a separate short transaction.

A day is the capture day (the night that posted the order) and the earning day of a bounty. A draft
bounty applies to the bounties actually earned: a draft cannot invent the bounties a zero-bounty
schedule did not earn. Refunds are not recomputed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from domain import money
from domain.analytics.tables import fee_what_if
from domain.platform.errors import DomainError
from domain.platform.sql import statement

MAX_DAYS = 366
MEASURES = ("platform_fee", "gateway_fee", "seller_net", "bounty")


class WhatIfError(DomainError):
    """A what-if request the rules refuse; nothing was computed or written."""

    codes = frozenset({"validation_error"})


@dataclass(frozen=True, slots=True)
class DraftSchedule:
    """The rates to try; None keeps, for each order, the rate of the schedule it was captured under."""

    platform_fee_bps: int | None = None
    gateway_fee_bps: int | None = None
    scout_bounty_paise: int | None = None

    def validate(self) -> None:
        for name in ("platform_fee_bps", "gateway_fee_bps"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= money.BPS_DENOMINATOR:
                raise WhatIfError("validation_error", f"{name} must be between 0 and {money.BPS_DENOMINATOR}")
        if (self.platform_fee_bps or 0) + (self.gateway_fee_bps or 0) > money.BPS_DENOMINATOR:
            raise WhatIfError("validation_error", "the platform and gateway fees together exceed 100%")
        if self.scout_bounty_paise is not None and self.scout_bounty_paise < 0:
            raise WhatIfError("validation_error", "scout_bounty_paise must not be negative")


@dataclass(slots=True)
class Settled:
    """One day's settlement totals under one schedule (actual or draft)."""

    platform_fee_paise: int = 0
    gateway_fee_paise: int = 0
    seller_net_paise: int = 0
    bounty_paise: int = 0


@dataclass(slots=True)
class DayComparison:
    day: dt.date
    orders: int = 0
    gmv_paise: int = 0
    bounties: int = 0
    actual: Settled = field(default_factory=Settled)
    draft: Settled = field(default_factory=Settled)

    def row(self) -> dict[str, Any]:
        """The day's `analytics.fee_what_if` values (without run and draft parameters)."""
        values: dict[str, Any] = {"day": self.day, "orders": self.orders, "gmv_paise": self.gmv_paise}
        values["bounties"] = self.bounties
        for measure in MEASURES:
            actual, draft = getattr(self.actual, f"{measure}_paise"), getattr(self.draft, f"{measure}_paise")
            values |= {f"actual_{measure}_paise": actual, f"draft_{measure}_paise": draft}
            values[f"{measure}_diff_paise"] = draft - actual
        return values


def days_of(first: dt.date, last: dt.date) -> list[dt.date]:
    if last < first:
        raise WhatIfError("validation_error", f"the range ends ({last}) before it starts ({first})")
    count = (last - first).days + 1
    if count > MAX_DAYS:
        raise WhatIfError("validation_error", f"at most {MAX_DAYS} days at a time; {count} asked")
    return [first + dt.timedelta(days=n) for n in range(count)]


def compare(conn: sa.Connection, draft: DraftSchedule, first: dt.date, last: dt.date) -> list[DayComparison]:
    """Every day from `first` to `last`: what was settled, and what `draft` would have settled."""
    draft.validate()
    days = {day: DayComparison(day) for day in days_of(first, last)}
    window = {"first": first, "last": last}
    for group in conn.execute(statement("analytics/fee_what_if_captures"), window):
        _add_captures(days[group.day], group, draft)
    for earned in conn.execute(statement("analytics/fee_what_if_bounties"), window):
        _add_bounties(days[earned.day], earned, draft)
    return list(days.values())


def _add_captures(day: DayComparison, group: Any, draft: DraftSchedule) -> None:
    """Orders of one gross under one schedule: posted totals as they are, the draft by fee_breakdown."""
    orders = int(group.orders)
    platform_bps = group.platform_fee_bps if draft.platform_fee_bps is None else draft.platform_fee_bps
    gateway_bps = group.gateway_fee_bps if draft.gateway_fee_bps is None else draft.gateway_fee_bps
    try:
        fees = money.fee_breakdown(int(group.gross_paise), platform_bps, gateway_bps)
    except money.MoneyError as exc:
        raise WhatIfError("validation_error", f"the draft with the rates in effect on {day.day}: {exc}") from None
    day.orders += orders
    day.gmv_paise += orders * int(group.gross_paise)
    day.actual.platform_fee_paise += int(group.platform_fee_paise)
    day.actual.gateway_fee_paise += int(group.gateway_fee_paise)
    day.actual.seller_net_paise += int(group.seller_net_paise)
    day.draft.platform_fee_paise += orders * fees.platform_fee_paise
    day.draft.gateway_fee_paise += orders * fees.gateway_fee_paise
    day.draft.seller_net_paise += orders * fees.seller_net_paise


def _add_bounties(day: DayComparison, earned: Any, draft: DraftSchedule) -> None:
    day.bounties = int(earned.bounties)
    day.actual.bounty_paise = int(earned.amount_paise)
    per_bounty = draft.scout_bounty_paise
    day.draft.bounty_paise = day.actual.bounty_paise if per_bounty is None else day.bounties * per_bounty


def record(conn: sa.Connection, run_id: str, draft: DraftSchedule, comparisons: Iterable[DayComparison]) -> int:
    """Write a run's comparison (a re-execution of the run replaces its rows); how many days it has."""
    parameters = {f"draft_{name}": value for name, value in dataclasses.asdict(draft).items()}
    rows = [{"run_id": run_id, **parameters, **comparison.row()} for comparison in comparisons]
    conn.execute(sa.delete(fee_what_if).where(fee_what_if.c.run_id == run_id))
    if rows:
        conn.execute(sa.insert(fee_what_if), rows)
    return len(rows)


def run_what_if(
    engine: sa.Engine, run_id: str, draft: DraftSchedule, first: dt.date, last: dt.date
) -> list[DayComparison]:
    """Compare in a READ ONLY snapshot (one consistent view of the books across both queries), then
    record the comparison in its own short write transaction."""
    with engine.connect() as conn, conn.begin():
        conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
        comparisons = compare(conn, draft, first, last)
    with engine.begin() as conn:
        record(conn, run_id, draft, comparisons)
    return comparisons


def totals(comparisons: Iterable[DayComparison]) -> dict[str, int]:
    """The range's sums of every figure of `DayComparison.row`."""
    summed: dict[str, int] = {}
    for comparison in comparisons:
        for name, value in comparison.row().items():
            if name != "day":
                summed[name] = summed.get(name, 0) + int(value)
    return summed


def markdown(comparisons: list[DayComparison]) -> str:
    """The comparison for people: a row per day and the total, rupees, draft against actual."""
    header = "| day | orders | GMV | platform fee | gateway fee | seller net | bounty |"
    lines = [header, "|---|---:|---:|---:|---:|---:|---:|"]
    for label, values in [*((str(c.day), c.row()) for c in comparisons), ("**total**", totals(comparisons))]:
        cells = [label, str(values["orders"]), money.format_rupees(values["gmv_paise"])]
        cells += [_measure(values, measure) for measure in MEASURES]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _measure(values: dict[str, Any], measure: str) -> str:
    actual, draft = values[f"actual_{measure}_paise"], values[f"draft_{measure}_paise"]
    diff = values[f"{measure}_diff_paise"]
    sign = "+" if diff > 0 else ""
    return f"{money.format_rupees(actual)} → {money.format_rupees(draft)} ({sign}{money.format_rupees(diff)})"
