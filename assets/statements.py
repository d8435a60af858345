"""Statements in Dagster: the settlement statement of each seller-day, written to the outbox once the
day's payouts exist, so it can say which payout the day's earnings went into."""

import dagster as dg

from assets.partitions import daily_partitions
from assets.payouts import payout_batch
from assets.resources import PostgresResource
from domain.platform.clock import Day
from domain.settlement import store


@dg.asset(
    partitions_def=daily_partitions,
    group_name="payouts",
    deps=[payout_batch],
    description="One settlement statement per seller and day in the notifications outbox: the orders that "
    "became payable, their gross, fees and net, and the payout the net went into.",
)
def settlement_statements(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    with db.begin() as conn:
        written = store.write_statements(conn, Day.from_key(context.partition_key))
    return dg.MaterializeResult(metadata={"statements_written": written})


ASSETS = [settlement_statements]
CHECKS: list[dg.AssetChecksDefinition] = []
