"""Great Expectations suites run as blocking Dagster asset checks, pushed down to PostgreSQL.

Each suite validates a SQL query through GE's SQL datasource, so expectations run as SQL
aggregates in the database (no rows travel to pandas, whatever the day's volume). Every result is
stored in `check_results` and attached to the check as metadata. Importing GE costs seconds, so it
happens inside the check, never when Dagster loads definitions.
"""

import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg

from assets import checks
from assets.partitions import daily_partitions
from assets.resources import PostgresResource, SettingsResource
from assets.settlement import ledger_trial_balance, payment_confirmations_asset, settlement_lines
from domain.ledger.invariants import LEDGER_INVARIANTS
from domain.orders.tables import ORDER_STATUSES
from domain.platform.clock import Day
from domain.platform.settings import Settings

# GE's generic SQL datasource is deliberate: its Postgres one refuses unix-socket URLs.
warnings.filterwarnings("ignore", message="You are using a generic SQLDatasource")


@dataclass(frozen=True, slots=True)
class Suite:
    """A query to validate and the expectations over its rows (built lazily: GE imports slowly)."""

    name: str
    query: str
    expectations: Callable[[Any, Settings], Sequence[Any]]


def validate(url: str, suite: Suite, settings: Settings) -> tuple[bool, list[dict[str, object]]]:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    # That module pins its own logger at INFO and announces every ephemeral context it makes.
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_sql(f"{suite.name}_db", connection_string=url)
    batch = source.add_query_asset(suite.name, query=suite.query).add_batch_definition_whole_table("all")
    gx_suite = gx.ExpectationSuite(suite.name)
    for expectation in suite.expectations(gx.expectations, settings):
        gx_suite.add_expectation(expectation)
    result = batch.get_batch().validate(gx_suite)
    details = [
        {
            "expectation": r.expectation_config.type,
            "kwargs": {k: v for k, v in r.expectation_config.kwargs.items() if k != "batch_id"},
            "success": bool(r.success),
            "unexpected_count": r.result.get("unexpected_count", r.result.get("observed_value")),
            "sample": [str(v) for v in (r.result.get("partial_unexpected_list") or [])[:10]],
        }
        for r in result.results
    ]
    return bool(result.success), details


def run_check(
    context: dg.AssetCheckExecutionContext, db: PostgresResource, settings: Settings, suite: Suite, asset: str
) -> dg.AssetCheckResult:
    passed, details = validate(db.engine.url.render_as_string(hide_password=False), suite, settings)
    failed = [d for d in details if not d["success"]]
    checks.record(db, context, asset, suite.name, passed, {"expectations": details})
    return dg.AssetCheckResult(
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "expectations": len(details),
            "failed_expectations": dg.MetadataValue.json(failed),
            "all_results": dg.MetadataValue.json(details),
        },
    )


def _day_literal(context: dg.AssetCheckExecutionContext) -> str:
    """The partition day as a SQL literal; the key comes from Dagster and is re-validated here."""
    return f"DATE '{Day.from_key(context.partition_key).date.isoformat()}'"


def settlement_suite(day: str) -> Suite:
    return Suite(
        "settlement_lines_expectations",
        f"""SELECT order_id, seller_id, gross_paise, platform_fee_paise, gateway_fee_paise, seller_net_paise,
                   gross_paise - platform_fee_paise - gateway_fee_paise AS expected_net_paise, fee_schedule_id
            FROM settlement_lines WHERE settlement_date = {day}""",
        lambda gxe, _: [
            *[
                gxe.ExpectColumnValuesToNotBeNull(column=c)
                for c in (
                    "order_id",
                    "seller_id",
                    "gross_paise",
                    "platform_fee_paise",
                    "gateway_fee_paise",
                    "seller_net_paise",
                    "fee_schedule_id",
                )
            ],
            gxe.ExpectColumnValuesToBeBetween(column="gross_paise", min_value=1),
            gxe.ExpectColumnValuesToBeBetween(column="platform_fee_paise", min_value=0),
            gxe.ExpectColumnValuesToBeBetween(column="gateway_fee_paise", min_value=0),
            gxe.ExpectColumnValuesToBeBetween(column="seller_net_paise", min_value=0),
            gxe.ExpectColumnPairValuesToBeEqual(column_A="seller_net_paise", column_B="expected_net_paise"),
            gxe.ExpectColumnValuesToBeUnique(column="order_id"),
        ],
    )


def orders_suite(day: Day) -> Suite:
    start, end = day.start.isoformat(), day.end.isoformat()
    return Suite(
        "day_orders_expectations",
        f"""SELECT order_id, amount_paise, status, currency FROM orders
            WHERE (created_at >= '{start}' AND created_at < '{end}')
               OR (paid_at >= '{start}' AND paid_at < '{end}')""",
        lambda gxe, settings: [
            gxe.ExpectColumnValuesToNotBeNull(column="amount_paise"),
            gxe.ExpectColumnValuesToBeBetween(
                column="amount_paise", min_value=settings.order_min_paise, max_value=settings.order_max_paise
            ),
            gxe.ExpectColumnValuesToBeInSet(column="status", value_set=list(ORDER_STATUSES)),
            gxe.ExpectColumnValuesToBeInSet(column="currency", value_set=["INR"]),
            gxe.ExpectColumnValuesToBeUnique(column="order_id"),
        ],
    )


def ledger_suites() -> list[Suite]:
    """The ledger invariants of domain.ledger.invariants, each an expectation of zero offending rows."""
    return [
        Suite(invariant.name, invariant.sql, lambda gxe, _: [gxe.ExpectTableRowCountToEqual(value=0)])
        for invariant in LEDGER_INVARIANTS
    ]


@dg.asset_check(
    asset=settlement_lines,
    blocking=True,
    partitions_def=daily_partitions,
    description="No nulls, amounts >= 0, seller_net = gross - platform_fee - gateway_fee, one line per order.",
)
def settlement_lines_expectations(
    context: dg.AssetCheckExecutionContext, db: PostgresResource, settings: SettingsResource
) -> dg.AssetCheckResult:
    return run_check(context, db, settings.get(), settlement_suite(_day_literal(context)), "settlement_lines")


@dg.asset_check(
    asset=payment_confirmations_asset,
    blocking=True,
    partitions_def=daily_partitions,
    description="The day's orders: amounts within the configured bounds, known statuses, INR only.",
)
def day_orders_expectations(
    context: dg.AssetCheckExecutionContext, db: PostgresResource, settings: SettingsResource
) -> dg.AssetCheckResult:
    suite = orders_suite(Day.from_key(context.partition_key))
    return run_check(context, db, settings.get(), suite, "payment_confirmations")


def _ledger_check(suite: Suite) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=ledger_trial_balance,
        name=suite.name,
        blocking=True,
        partitions_def=daily_partitions,
        description=next(i.description for i in LEDGER_INVARIANTS if i.name == suite.name),
    )
    def _check(
        context: dg.AssetCheckExecutionContext, db: PostgresResource, settings: SettingsResource
    ) -> dg.AssetCheckResult:
        return run_check(context, db, settings.get(), suite, "ledger_trial_balance")

    return _check


ledger_expectations = [_ledger_check(suite) for suite in ledger_suites()]

ASSETS: list[dg.AssetsDefinition] = []
CHECKS = [settlement_lines_expectations, day_orders_expectations, *ledger_expectations]
