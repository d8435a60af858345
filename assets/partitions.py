"""Daily partitions in India Standard Time: a partition is one IST calendar day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import dagster as dg

TIMEZONE = "Asia/Kolkata"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")

# end_offset=1 includes today, so finance (and the demo) can settle the day so far; re-running it
# after midnight completes it. The nightly schedule targets the previous day explicitly.
daily_partitions = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone=TIMEZONE, end_offset=1)


@dataclass(frozen=True, slots=True)
class Day:
    """One partition day and its [start, end) bounds as aware datetimes."""

    date: dt.date
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of(cls, date: dt.date) -> Day:
        start = dt.datetime.combine(date, dt.time(), IST)
        return cls(date, start, start + dt.timedelta(days=1))

    @classmethod
    def from_key(cls, partition_key: str) -> Day:
        return cls.of(dt.date.fromisoformat(partition_key))

    @property
    def params(self) -> dict[str, object]:
        return {"day": self.date, "settlement_date": self.date, "day_start": self.start, "day_end": self.end}
