"""Great Expectations suites run as blocking Dagster asset checks, pushed down to PostgreSQL.

Each suite validates one row of counts that an aggregate query over the day's rows computes
(`sql/checks/`), each expected to be zero: the day's volume is scanned once, inside PostgreSQL, and GE
checks a handful of numbers. Every result is
stored in `check_results` and attached to the check as metadata. Importing GE costs seconds, so it
happens inside the check, never when Dagster loads definitions.
"""

import datetime as dt
import logging
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from assets import checks
from assets.partitions import daily_partitions
from assets.reconciliation import settlement_report
from assets.resources import PostgresResource, SettingsResource
from assets.settlement import captures, day_orders
from domain.platform.clock import Day
from domain.platform.settings import Settings
from domain.platform.sql import statement
from domain.reconciliation import store as recon_store

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


def _literal(name: str, **params: object) -> str:
    """The SQL of `sql/<name>.sql` with its parameters inlined: GE's query assets take no parameters.
    The values are ours (a partition day, settings), rendered by SQLAlchemy's own literal compiler."""
    binds = [sa.bindparam(key, value, type_=_TYPES[type(value)]) for key, value in params.items()]
    query = statement(name).bindparams(*binds)
    compiled = str(query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
    return "\n".join(line for line in compiled.splitlines() if not line.startswith("--"))  # GE wants SELECT first


_TYPES: dict[type, Any] = {dt.date: sa.Date(), dt.datetime: sa.DateTime(timezone=True), int: sa.BigInteger()}


def _all_zero(*columns: str) -> Callable[[Any, Settings], Sequence[Any]]:
    return lambda gxe, _: [gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=0) for c in columns]


def captures_suite(day: Day) -> Suite:
    return Suite(
        "captures_expectations",
        _literal("checks/captures_day", day=day.date),
        _all_zero("missing_values", "gross_not_positive", "negative_parts", "parts_not_adding_up", "fees_off_schedule"),
    )


def orders_suite(day: Day, settings: Settings) -> Suite:
    query = _literal(
        "checks/orders_day",
        day_start=day.start,
        day_end=day.end,
        min_paise=settings.order_min_paise,
        max_paise=settings.order_max_paise,
    )
    return Suite("day_orders_expectations", query, _all_zero("amount_out_of_bounds", "unknown_status", "not_inr"))


def report_suite(report_id: int, day: dt.date, settings: Settings) -> Suite:
    earliest = day - dt.timedelta(days=settings.recon_settlement_window_days + 1)
    return Suite(
        "settlement_report_expectations",
        _literal("checks/report_rows", report_id=report_id, earliest=earliest, latest=day),
        _all_zero(
            "rows_not_as_stored",
            "total_not_as_stored",
            "wrong_signs",
            "settled_not_adding_up",
            "missing_references",
            "dates_out_of_range",
        ),
    )


@dg.asset_check(
    asset=settlement_report,
    blocking=True,
    partitions_def=daily_partitions,
    description="The day's latest report version: every row stored, its total as received, signs by payment "
    "type, settled = Amount + Fee + IGST + CGST + SGST, references present, transaction dates within the "
    "settlement window before the day and settled on or after them.",
)
def settlement_report_expectations(
    context: dg.AssetCheckExecutionContext, db: PostgresResource, settings: SettingsResource
) -> dg.AssetCheckResult:
    day = dt.date.fromisoformat(context.partition_key)
    with db.begin() as conn:
        report = recon_store.latest_report(conn, day)
    if report is None:  # not published yet: nothing to validate, and nothing of the day is paid out
        return dg.AssetCheckResult(passed=True, metadata={"report": "not published yet"})
    suite = report_suite(report.report_id, day, settings.get())
    return run_check(context, db, settings.get(), suite, "settlement_report")


@dg.asset_check(
    asset=captures,
    blocking=True,
    partitions_def=daily_partitions,
    description="The day's captures: no missing values, gross > 0, no negative part, net = gross - platform fee - "
    "gateway fee, and both fees exactly as the fee schedule each order was paid under says.",
)
def captures_expectations(
    context: dg.AssetCheckExecutionContext, db: PostgresResource, settings: SettingsResource
) -> dg.AssetCheckResult:
    return run_check(context, db, settings.get(), captures_suite(Day.from_key(context.partition_key)), "captures")


@dg.asset_check(
    asset=day_orders,
    blocking=True,
    partitions_def=daily_partitions,
    description="The day's orders: amounts within the configured bounds, known statuses, INR only.",
)
def day_orders_expectations(
    context: dg.AssetCheckExecutionContext, db: PostgresResource, settings: SettingsResource
) -> dg.AssetCheckResult:
    current = settings.get()
    return run_check(context, db, current, orders_suite(Day.from_key(context.partition_key), current), "day_orders")


ASSETS: list[dg.AssetsDefinition] = []
CHECKS = [captures_expectations, day_orders_expectations, settlement_report_expectations]
