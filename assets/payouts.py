"""Payouts in Dagster: the daily batch (after settlement and its blocking checks), its submission,
status polling and webhook application, and finance's typed controls (create and submit for a date,
retry, cancel, hold or release a payee). The work itself is in `domain.payouts`.
"""

import contextlib
import datetime as dt
from typing import Any

import dagster as dg

from assets import checks, metadata
from assets.partitions import daily_partitions
from assets.reconciliation import settlement_report
from assets.resources import PayoutsGatewayResource, PostgresResource, SettingsResource
from assets.settlement import ledger_close, scout_bounties, settlements
from domain.money import format_rupees
from domain.payouts import finance, overview, status, submission
from domain.payouts import store as payout_store
from domain.payouts.invariants import PAYOUT_INVARIANTS
from domain.platform.clock import Day, ist_date
from domain.platform.runs import RunSummary
from domain.platform.settings import Settings
from gateways.razorpayx import webhooks as razorpayx_webhooks


def _submit(
    db: PostgresResource, razorpayx: PayoutsGatewayResource, settings: Settings, **options: object
) -> RunSummary:
    with contextlib.closing(razorpayx.client()) as client:
        return submission.run_submission(
            db.url_string, client, submission.SubmitOptions.from_settings(settings, **options)
        )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="payouts",
    deps=[settlements, scout_bounties, ledger_close, settlement_report],
    check_specs=checks.specs("payout_batch", PAYOUT_INVARIANTS),
    description="The day's payouts: one per seller whose available balance reaches the minimum payout, and "
    "one per scout with withdrawal requests. Runs only after the blocking checks on the captures and the "
    "ledger close passed. Payees without a destination or on hold are held back and listed, and with "
    "PAYOUT_REQUIRES_SETTLED_FUNDS a seller's settlement waits until the gateway's report lists its payments.",
)
def payout_batch(  # type: ignore[no-untyped-def]
    context: dg.AssetExecutionContext, db: PostgresResource, settings: SettingsResource
):
    day = Day.from_key(context.partition_key)
    settled_funds_only = settings.get().payout_requires_settled_funds
    with db.begin() as conn:
        result = submission.create_batch(conn, day.date, settled_funds_only=settled_funds_only)
    held = result.pop("held_back")
    yield dg.MaterializeResult(metadata={**result, **_held_back(held)})
    yield from checks.evaluate(db, context, "payout_batch", PAYOUT_INVARIANTS, {"day": day.date})


def _held_back(held: list[dict[str, Any]]) -> dict[str, object]:
    """Everyone held back (JSON, for tools), and the largest balances among them as a table for finance."""
    largest = sorted(held, key=lambda row: (-row["available_paise"], row["payee_id"]))[: metadata.TABLE_ROWS]
    return {
        "held_back": len(held),
        "held_back_paise": sum(row["available_paise"] for row in held),
        "held_back_payees": dg.MetadataValue.json(held[:50]),
        "top_held_back_payees": metadata.table(
            [{**row, "balance": format_rupees(row["available_paise"])} for row in largest],
            [("payee_type", "string"), ("payee_id", "string"), ("reason", "string"), ("balance", "string")],
        ),
    }


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
    summary = _submit(db, razorpayx, settings.get(), batch_date=day.date)
    with db.begin() as conn:
        statuses = overview.by_status(conn, day.date)
        failed = overview.failed(conn, day.date, metadata.TABLE_ROWS)
    return dg.MaterializeResult(metadata={**summary.as_dict(), **_day_payouts(statuses, failed)})


def _day_payouts(statuses: dict[str, tuple[int, int]], failed: list[dict[str, Any]]) -> dict[str, object]:
    """The batch day's payouts by status (counts, and paise paid and failed) and its largest failures."""
    return {
        **{f"payouts_{status}": count for status, (count, _) in statuses.items()},
        "payouts_completed_paise": statuses["completed"][1],
        "payouts_failed_paise": statuses["failed"][1],
        "failed_payouts": metadata.table(
            [{**row, "amount": format_rupees(row["amount_paise"])} for row in failed],
            [("payout_id", "string"), ("payee_id", "string"), ("amount", "string"), ("failure_reason", "string")],
        ),
    }


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
    summary = _submit(
        db,
        razorpayx,
        settings.get(),
        batch_date=_date(config.batch_date),
        payout_ids=tuple(config.payout_ids) if config.payout_ids else None,
    )
    context.log.info(f"payout submission: {summary.as_dict()}")
    return summary.as_dict()


@dg.op(
    description="Create the payouts of one day (refused unless the blocking checks upstream of the day's payout "
    "batch passed), then submit them."
)
def create_and_submit_payouts_op(
    context: dg.OpExecutionContext,
    config: CreatePayoutsConfig,
    db: PostgresResource,
    razorpayx: PayoutsGatewayResource,
    settings: SettingsResource,
) -> dict[str, object]:
    day = dt.date.fromisoformat(config.date)
    guarding = checks.blocking_checks_upstream(context.repository_def.asset_graph, payout_batch.key)
    with db.begin() as conn:
        failed = checks.failed_checks(conn, day, guarding)
        if failed:
            raise dg.Failure(f"payouts for {day} refused: blocking checks not passed: {', '.join(failed)}")
        created = submission.create_batch(conn, day, settled_funds_only=settings.get().payout_requires_settled_funds)
    summary = _submit(db, razorpayx, settings.get(), batch_date=day)
    context.log.info(f"payouts for {day}: {created['payouts_created']} created, submission {summary.as_dict()}")
    return {"created": created["payouts_created"], "held_back": len(created["held_back"]), **summary.as_dict()}


@dg.op(description="Retry the given payouts: due now if waiting, a new payout if failed.")
def retry_payouts_op(context: dg.OpExecutionContext, config: PayoutIdsConfig, db: PostgresResource) -> dict[str, str]:
    today = ist_date(dt.datetime.now(dt.UTC))
    results = finance.retry_payouts(db.engine, config.payout_ids, config.actor, today)
    context.log.info(f"retry: {results}")
    return results


@dg.op(description="Cancel the given pending payouts; their money returns to the payees' balances.")
def cancel_payouts_op(context: dg.OpExecutionContext, config: PayoutIdsConfig, db: PostgresResource) -> dict[str, str]:
    results = finance.cancel_payouts(db.engine, config.payout_ids, config.actor, config.reason or "finance")
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
    with contextlib.closing(razorpayx.client()) as client:
        counts = status.bring_up_to_date(db.engine, client, razorpayx_webhooks.parse)
    context.log.info(f"payout status: {counts}")
    return counts


def status_work(db: PostgresResource) -> int:
    with db.begin() as conn:
        return status.pending_work(conn)


ASSETS = [payout_batch, payout_submission]
CHECKS: list[dg.AssetChecksDefinition] = []
