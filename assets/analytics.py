"""Revenue and health tables in schema `analytics`, read-only for the `analyst` role, each rebuilt for
its partition day by `domain.analytics.refresh`. One step refreshes them all after the night's
payouts: seven tables are seven assets for analysts, but one transaction and one step for the run."""

import dagster as dg

from assets import metadata
from assets.partitions import daily_partitions
from assets.payouts import payout_submission
from assets.resources import PostgresResource
from assets.settlement import ledger_close, scout_bounties, settlements
from domain.analytics import day_statement, refresh
from domain.money import format_rupees
from domain.platform.clock import Day

DESCRIPTIONS = {
    "daily_revenue": "GMV, orders, platform and gateway fees, refunds and the platform fee they reversed, bounty "
    "expense, gateway fees borne on stray payments, and net revenue per IST day. Each day's materialization "
    "carries the day statement (with the day's payouts by status) and the books by account type at its close.",
    "seller_earnings_daily": "What each seller had settled per IST day.",
    "payment_success_daily": "Payments succeeded and failed per IST day, and the success rate.",
    "order_completion_daily": "Orders created per IST day and how many completed.",
    "payout_health_daily": "Payouts per batch day by payee type, status and failure reason, with their attempts.",
    "refunds_daily": "Refunds completed and failed per IST day, by kind and reason: paise, platform fee reversed, "
    "what the sellers gave back (clawbacks).",
    "scout_leaderboard": "Every scout ranked by bounty earned to date.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            dg.AssetKey(["analytics", name]),
            description=description,
            group_name="analytics",
            partitions_def=daily_partitions,
            deps=[settlements, scout_bounties, ledger_close, payout_submission],
        )
        for name, description in DESCRIPTIONS.items()
    ],
    partitions_def=daily_partitions,
)
def analytics_tables(context: dg.AssetExecutionContext, db: PostgresResource):  # type: ignore[no-untyped-def]
    day = Day.from_key(context.partition_key)
    with db.begin() as conn:
        rows = {name: refresh.refresh_day(conn, name, day) for name in refresh.DAILY_TABLES}
        rows["scout_leaderboard"] = refresh.refresh_leaderboard(conn)
        statement = day_statement.read(conn, day.date)
    for name in DESCRIPTIONS:
        extra = _statement_metadata(statement) if name == "daily_revenue" else {}
        yield dg.MaterializeResult(asset_key=dg.AssetKey(["analytics", name]), metadata={"rows": rows[name], **extra})


def _statement_metadata(statement: day_statement.DayStatement) -> dict[str, object]:
    """The day statement finance reads, the books at the day's close, and the day's numbers to plot."""
    return {
        "day_statement": dg.MetadataValue.md(day_statement.markdown(statement)),
        "balances_at_close": metadata.table(
            [{"account_type": kind, "balance": format_rupees(paise)} for kind, paise in statement.balances.items()],
            [("account_type", "string"), ("balance", "string")],
        ),
        **day_statement.figures(statement),
    }


ASSETS = [analytics_tables]
CHECKS: list[dg.AssetChecksDefinition] = []
