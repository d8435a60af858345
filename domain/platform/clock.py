"""India Standard Time and the bounds of an IST day: the one definition the whole system uses.

The domain reads no clock of its own: callers pass `now`, and these helpers only turn instants into
IST days and days into their [start, end) instants.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

TIMEZONE = "Asia/Kolkata"
IST = dt.timezone(dt.timedelta(hours=5, minutes=30), "IST")


def ist_date(instant: dt.datetime) -> dt.date:
    """The IST calendar day of an aware instant."""
    return instant.astimezone(IST).date()


@dataclass(frozen=True, slots=True)
class Day:
    """One IST calendar day and its [start, end) bounds as aware datetimes."""

    date: dt.date
    start: dt.datetime
    end: dt.datetime

    @classmethod
    def of(cls, date: dt.date) -> Day:
        start = dt.datetime.combine(date, dt.time(), IST)
        return cls(date, start, start + dt.timedelta(days=1))

    @classmethod
    def from_key(cls, key: str) -> Day:
        """The day of an ISO date string such as a Dagster partition key."""
        return cls.of(dt.date.fromisoformat(key))

    @classmethod
    def containing(cls, instant: dt.datetime) -> Day:
        return cls.of(ist_date(instant))

    @property
    def params(self) -> dict[str, object]:
        """Bind parameters for the SQL in `sql/`: `day`, `day_start`, `day_end`."""
        return {"day": self.date, "day_start": self.start, "day_end": self.end}
