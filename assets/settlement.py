"""The nightly settlement in Dagster: the day's orders, captures, settlements, bounties, and the ledger
close whose blocking checks (the day's control totals and the close's own invariants) guard payouts.
Each asset is one IST partition day and a thin call into `domain.settlement` and `domain.ledger.closing`.
Payments are confirmed through the day (`assets/confirmation.py`); the night only reads the confirmations.
"""

import dagster as dg

from assets import checks
from assets.partitions import daily_partitions
from assets.resources import PostgresResource
from domain.ledger import closing
from domain.ledger.invariants import CLOSE_INVARIANTS, LEDGER_INVARIANTS
from domain.platform.clock import Day
from domain.platform.database import refresh_statistics
from domain.refunds.invariants import REFUND_INVARIANTS
from domain.settlement import store
from domain.settlement.invariants import SETTLEMENT_INVARIANTS

HELD_SAMPLE = 20
CLOSE_CHECKS = (*LEDGER_INVARIANTS, *CLOSE_INVARIANTS, *SETTLEMENT_INVARIANTS, *REFUND_INVARIANTS)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    description="The day's orders as the ingest API recorded them: the input the night settles, checked "
    "before any money moves.",
)
def day_orders(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    with db.begin() as conn:
        counts = store.day_orders(conn, Day.from_key(context.partition_key))
    return dg.MaterializeResult(metadata=counts)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[day_orders],
    description="Every payment the gateway confirmed since the day began: one capture row per order (gross, "
    "fees, net) and one ledger entry per seller (gateway clearing, seller payable, platform revenue).",
)
def captures(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    day = Day.from_key(context.partition_key)
    with db.begin() as conn:
        counts = store.post_captures(conn, day)
        held = store.held_payments(conn, day)
    with db.begin() as conn:
        refresh_statistics(conn, "captures", "journal_entries", "ledger_lines")
    return dg.MaterializeResult(
        metadata={**counts, "held_back": len(held), "held_back_orders": dg.MetadataValue.json(held[:HELD_SAMPLE])}
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[captures],
    description="Captured orders that became payable (delivered, or paid and past the hold period): one "
    "settlement row each, and for each seller one payee item holding their net, what the payout pays.",
)
def settlements(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    day = Day.from_key(context.partition_key)
    with db.begin() as conn:
        counts = store.record_settlements(conn, day)
    with db.begin() as conn:
        refresh_statistics(conn, "settlements", "settlement_groups", "payee_items")
        totals = store.day_totals(conn, day)
    return dg.MaterializeResult(metadata={**counts, **totals})


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[settlements],
    description="Bounties earned by scouts whose recruits' first order settled this day.",
)
def scout_bounties(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    with db.begin() as conn:
        counts = store.earn_bounties(conn, Day.from_key(context.partition_key))
    return dg.MaterializeResult(metadata=counts)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="settlement",
    deps=[captures, settlements, scout_bounties],
    check_specs=checks.specs("ledger_close", CLOSE_CHECKS),
    description="The books closed after the night's postings: each account's balance and the trial balance "
    "by account type. Its checks hold the night's entries and the day's subledger to each other.",
)
def ledger_close(context: dg.AssetExecutionContext, db: PostgresResource):  # type: ignore[no-untyped-def]
    day = Day.from_key(context.partition_key)
    close = closing.close_ledger(db.engine, day)
    with db.begin() as conn:
        previous = closing.previous_mark(conn, close.close_id)
    params = {
        **day.params,
        "close_id": close.close_id,
        "from_entry_id": previous,
        "through_entry_id": close.through_entry_id,
    }
    yield dg.MaterializeResult(
        metadata={
            "close_id": close.close_id,
            "through_entry_id": close.through_entry_id,
            "accounts_moved": close.accounts_moved,
            **{f"{kind}_paise": figures["balance_paise"] for kind, figures in close.trial_balance.items()},
        }
    )
    yield from checks.evaluate(db, context, "ledger_close", CLOSE_CHECKS, params)


ASSETS = [day_orders, captures, settlements, scout_bounties, ledger_close]
CHECKS: list[dg.AssetChecksDefinition] = []
