"""Daily partitions in India Standard Time: a partition is one IST calendar day (`Day.from_key`)."""

from __future__ import annotations

import dagster as dg

from domain.platform.clock import TIMEZONE

# end_offset=1 includes today, so finance (and the demo) can settle the day so far; re-running it
# after midnight completes it. The nightly schedule targets the previous day explicitly.
daily_partitions = dg.DailyPartitionsDefinition(start_date="2026-01-01", timezone=TIMEZONE, end_offset=1)
