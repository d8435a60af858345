"""Revenue and health tables in schema `analytics`, read-only for the `analyst` role, each rebuilt for
its partition day by `domain.analytics.refresh`."""

import dagster as dg

from assets.partitions import daily_partitions
from assets.payouts import payout_submission
from assets.resources import PostgresResource
from assets.settlement import ledger_trial_balance, scout_bounties, settlement_lines
from domain.analytics import refresh
from domain.platform.clock import Day


def _daily_table(name: str, description: str, deps: list[dg.AssetsDefinition]) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        key_prefix="analytics",
        partitions_def=daily_partitions,
        group_name="analytics",
        deps=deps,
        description=description,
    )
    def _refresh(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
        day = Day.from_key(context.partition_key)
        with db.begin() as conn:
            rows = refresh.refresh_day(conn, name, day)
        return dg.MaterializeResult(metadata={"rows": rows})

    return _refresh


daily_revenue = _daily_table(
    "daily_revenue",
    "GMV, orders, platform and gateway fees, refunds, bounty expense and net revenue per IST day.",
    [ledger_trial_balance, scout_bounties],
)
seller_earnings_daily = _daily_table(
    "seller_earnings_daily", "What each seller had settled per IST day.", [settlement_lines]
)
payment_success_daily = _daily_table(
    "payment_success_daily", "Payments succeeded and failed per IST day, and the success rate.", [settlement_lines]
)
order_completion_daily = _daily_table(
    "order_completion_daily", "Orders created per IST day and how many completed.", [settlement_lines]
)
payout_health_daily = _daily_table(
    "payout_health_daily",
    "Payouts per batch day by payee type, status and failure reason, with their gateway attempts.",
    [payout_submission],
)


@dg.asset(
    key_prefix="analytics",
    partitions_def=daily_partitions,
    group_name="analytics",
    deps=[scout_bounties],
    description="Every scout ranked by bounty earned to date.",
)
def scout_leaderboard(db: PostgresResource) -> dg.MaterializeResult:
    with db.begin() as conn:
        rows = refresh.refresh_leaderboard(conn)
    return dg.MaterializeResult(metadata={"scouts": rows})


ASSETS = [
    daily_revenue,
    seller_earnings_daily,
    payment_success_daily,
    order_completion_daily,
    payout_health_daily,
    scout_leaderboard,
]

CHECKS: list[dg.AssetChecksDefinition] = []
