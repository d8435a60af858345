"""The nightly settlement in Dagster: post captures, record settlement lines, earn bounties, and the
trial balance whose checks guard payouts. Each asset is one IST partition day and a thin call into
`domain.settlement`, where the set-based work and its idempotency live. Payments are confirmed through
the day (`assets/confirmation.py`); the night only reads the confirmations.
"""

import dagster as dg

from assets.partitions import daily_partitions
from assets.resources import PostgresResource
from domain.platform.clock import Day
from domain.settlement import store

HELD_SAMPLE = 20


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    description="Capture entries (gateway clearing, seller payable, platform revenue) for every confirmed "
    "payment up to the end of the day.",
)
def captures(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    day = Day.from_key(context.partition_key)
    with db.begin() as conn:
        counts = store.post_captures(conn, day)
        held = store.held_payments(conn, day)
    return dg.MaterializeResult(
        metadata={
            **counts,
            "held_back": len(held),
            "held_back_orders": dg.MetadataValue.json(held[:HELD_SAMPLE]),
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[captures],
    description="One line per order that became eligible (delivered, or paid and past the hold period): "
    "gross, platform fee, gateway fee and seller net under the fee schedule in effect at payment.",
)
def settlement_lines(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    with db.begin() as conn:
        counts = store.record_settlement_lines(conn, Day.from_key(context.partition_key))
    return dg.MaterializeResult(metadata=counts)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[settlement_lines],
    description="Bounties earned by scouts whose recruits' first order settled this day.",
)
def scout_bounties(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    with db.begin() as conn:
        counts = store.earn_bounties(conn, Day.from_key(context.partition_key))
    return dg.MaterializeResult(metadata=counts)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[captures, scout_bounties],
    description="The books after the night's postings: balance per account type. Its checks guard payouts.",
)
def ledger_trial_balance(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    with db.begin() as conn:
        balances = store.trial_balance(conn)
    return dg.MaterializeResult(metadata={f"{name}_paise": value for name, value in balances.items()})


ASSETS = [captures, settlement_lines, scout_bounties, ledger_trial_balance]
CHECKS: list[dg.AssetChecksDefinition] = []
