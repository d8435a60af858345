"""Payouts in Dagster: the daily batch (after settlement and its blocking checks), its submission,
status polling and webhook application, and finance's typed controls (create and submit for a date,
retry, cancel, hold or release a payee). The work itself is in `assets/payout_engine.py`.
"""

import datetime as dt

import dagster as dg
import sqlalchemy as sa

from assets import payout_engine
from assets.partitions import Day, daily_partitions
from assets.resources import PayoutsGatewayResource, PostgresResource, SettingsResource
from assets.settlement import ledger_trial_balance, scout_bounties, settlement_lines
from assets.sql import statement
from domain import payout_store
from domain.invariants import PAYOUT_INVARIANTS, check_all
from domain.schema import check_results
from domain.settings import Settings

BLOCKING_CHECKS = (
    "settlement_lines_expectations",
    "entries_balance",
    "ledger_sums_to_zero",
    "entries_have_lines",
    "accounts_well_named",
)

LATEST_CHECKS = sa.text(
    """
    SELECT DISTINCT ON (check_name) check_name, passed FROM check_results
    WHERE partition_key = :partition_key AND check_name = ANY(:names)
    ORDER BY check_name, checked_at DESC, check_result_id DESC
    """
)


def submit_engine(db: PostgresResource, settings: Settings) -> sa.Engine:
    """Two connections per worker (lock + work), so the pool is sized from the concurrency."""
    return sa.create_engine(db.engine.url, pool_size=2 * settings.payout_concurrency + 1, pool_pre_ping=True)


def submit(
    db: PostgresResource, gateway: PayoutsGatewayResource, settings: Settings, **options: object
) -> payout_engine.SubmitSummary:
    engine = submit_engine(db, settings)
    client = gateway.client()
    try:
        return payout_engine.submit_pending(
            engine, client, payout_engine.SubmitOptions.from_settings(settings, **options)
        )
    finally:
        client.close()
        engine.dispose()


@dg.asset(
    partitions_def=daily_partitions,
    group_name="payouts",
    deps=[settlement_lines, scout_bounties, ledger_trial_balance],
    description="The day's payouts: one per seller whose available balance reaches the minimum payout, and "
    "one per scout with withdrawal requests. Runs only after the blocking checks on the settlement lines and "
    "the ledger passed. Payees without a destination or on hold are held back and listed.",
)
def payout_batch(context: dg.AssetExecutionContext, db: PostgresResource) -> dg.MaterializeResult:
    day = Day.from_key(context.partition_key)
    with db.begin() as conn:
        result = payout_engine.create_batch(conn, day.date, statement)
    held = result.pop("held_back")
    return dg.MaterializeResult(
        metadata={**result, "held_back": len(held), "held_back_payees": dg.MetadataValue.json(held[:50])}
    )


@dg.asset_check(
    asset=payout_batch,
    blocking=True,
    partitions_def=daily_partitions,
    description="Payout invariants: in-transit money equals in-flight payouts, items add up to each payout, no "
    "ledger entry is paid twice, and every payable balance equals its unpaid items.",
)
def payout_invariants(context: dg.AssetCheckExecutionContext, db: PostgresResource) -> dg.AssetCheckResult:
    with db.begin() as conn:
        broken = check_all(conn, PAYOUT_INVARIANTS)
        conn.execute(
            sa.insert(check_results).values(
                run_id=context.run.run_id,
                partition_key=context.partition_key,
                asset_key="payout_batch",
                check_name="payout_invariants",
                passed=not broken,
                details={"broken": {name: rows[:20] for name, rows in broken.items()}},
            )
        )
    return dg.AssetCheckResult(
        passed=not broken,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"broken": dg.MetadataValue.json({name: rows[:20] for name, rows in broken.items()})},
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="payouts",
    deps=[payout_batch],
    description="The day's pending payouts submitted to RazorpayX: attempt rows first, retries with backoff, "
    "unknown outcomes resolved by status query before any new attempt.",
)
def payout_submission(
    context: dg.AssetExecutionContext,
    db: PostgresResource,
    razorpayx: PayoutsGatewayResource,
    settings: SettingsResource,
) -> dg.MaterializeResult:
    day = Day.from_key(context.partition_key)
    summary = submit(db, razorpayx, settings.get(), batch_date=day.date)
    return dg.MaterializeResult(metadata=summary.as_dict())


class SubmitPayoutsConfig(dg.Config):
    """Submit due pending payouts: all of them, one batch day (YYYY-MM-DD), or the given ids."""

    batch_date: str = ""
    payout_ids: list[str] = []


class CreatePayoutsConfig(dg.Config):
    date: str


class PayoutIdsConfig(dg.Config):
    payout_ids: list[str]
    actor: str = "finance"
    reason: str = ""


class PayeeHoldConfig(dg.Config):
    payee_id: str
    hold: bool = True
    reason: str = ""
    actor: str = "finance"


def _date(text: str) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


@dg.op(description="Submit due pending payouts through RazorpayX.")
def submit_payouts_op(
    context: dg.OpExecutionContext,
    config: SubmitPayoutsConfig,
    db: PostgresResource,
    razorpayx: PayoutsGatewayResource,
    settings: SettingsResource,
) -> dict[str, object]:
    summary = submit(
        db,
        razorpayx,
        settings.get(),
        batch_date=_date(config.batch_date),
        payout_ids=tuple(config.payout_ids) if config.payout_ids else None,
    )
    context.log.info(f"payout submission: {summary.as_dict()}")
    return summary.as_dict()


def failed_day_checks(conn: sa.Connection, day: dt.date) -> list[str]:
    """The blocking checks of `day` that did not pass on their latest run (or never ran)."""
    latest = dict(
        conn.execute(LATEST_CHECKS, {"partition_key": day.isoformat(), "names": list(BLOCKING_CHECKS)}).tuples().all()
    )
    return [name for name in BLOCKING_CHECKS if not latest.get(name, False)]


@dg.op(
    description="Create the payouts of one day (refused unless that day's blocking checks passed), then submit them."
)
def create_and_submit_payouts_op(
    context: dg.OpExecutionContext,
    config: CreatePayoutsConfig,
    db: PostgresResource,
    razorpayx: PayoutsGatewayResource,
    settings: SettingsResource,
) -> dict[str, object]:
    day = dt.date.fromisoformat(config.date)
    with db.begin() as conn:
        failed = failed_day_checks(conn, day)
        if failed:
            raise dg.Failure(f"payouts for {day} refused: blocking checks not passed: {', '.join(failed)}")
        created = payout_engine.create_batch(conn, day, statement)
    summary = submit(db, razorpayx, settings.get(), batch_date=day)
    context.log.info(f"payouts for {day}: {created['payouts_created']} created, submission {summary.as_dict()}")
    return {"created": created["payouts_created"], "held_back": len(created["held_back"]), **summary.as_dict()}


@dg.op(description="Retry the given payouts: due now if waiting, a new payout if failed.")
def retry_payouts_op(context: dg.OpExecutionContext, config: PayoutIdsConfig, db: PostgresResource) -> dict[str, str]:
    results = payout_engine.retry_payouts(db.engine, config.payout_ids, config.actor)
    context.log.info(f"retry: {results}")
    return results


@dg.op(description="Cancel the given pending payouts; their money returns to the payees' balances.")
def cancel_payouts_op(context: dg.OpExecutionContext, config: PayoutIdsConfig, db: PostgresResource) -> dict[str, str]:
    results = payout_engine.cancel_payouts(db.engine, config.payout_ids, config.actor, config.reason or "finance")
    context.log.info(f"cancel: {results}")
    return results


@dg.op(description="Put a payee on hold (no new payouts, pending ones not submitted) or release the hold.")
def payee_hold_op(context: dg.OpExecutionContext, config: PayeeHoldConfig, db: PostgresResource) -> bool:
    with db.begin() as conn:
        if config.hold:
            changed = payout_store.hold_payee(conn, config.payee_id, config.reason or "finance hold", config.actor)
        else:
            changed = payout_store.release_payee(conn, config.payee_id, config.actor)
    context.log.info(f"payee {config.payee_id} {'held' if config.hold else 'released'}: changed={changed}")
    return changed


@dg.op(description="Apply stored RazorpayX webhooks, then poll the gateway for payouts still processing.")
def payout_status_op(
    context: dg.OpExecutionContext, db: PostgresResource, razorpayx: PayoutsGatewayResource
) -> dict[str, int]:
    webhooks = payout_engine.apply_webhooks(db.engine)
    client = razorpayx.client()
    try:
        polled = payout_engine.poll_in_flight(db.engine, client, older_than_s=POLL_AFTER_S)
    finally:
        client.close()
    context.log.info(f"webhooks {dict(webhooks)}, polled {dict(polled)}")
    return {**{f"webhook_{k}": v for k, v in webhooks.items()}, **{f"poll_{k}": v for k, v in polled.items()}}


POLL_AFTER_S = 300.0

STATUS_WORK = sa.text(
    """
    SELECT (SELECT count(*) FROM webhook_events WHERE source = 'razorpayx' AND verdict = 'accepted'
                                                  AND processed_at IS NULL)
         + (SELECT count(*) FROM payouts WHERE status = 'processing'
                                           AND updated_at <= now() - make_interval(secs => :poll_after_s))
    """
)


def status_work(db: PostgresResource) -> int:
    with db.begin() as conn:
        return int(conn.execute(STATUS_WORK, {"poll_after_s": POLL_AFTER_S}).scalar_one())
