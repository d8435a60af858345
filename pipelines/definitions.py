"""Everything Dagster runs, wired explicitly in one place.

Assets and checks are defined in `assets/`; this module chooses which exist, how they are grouped
into jobs and when they run, and which resources they get. Secrets arrive as `dg.EnvVar`. The
in-process executor is the default: on two cores the multiprocess executor costs about 2 s a step.
"""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg

from assets import analytics, payouts, quality, settlement
from assets.partitions import IST
from assets.resources import PaymentsGatewayResource, PayoutsGatewayResource, PostgresResource, SettingsResource

SETTLEMENT_ASSETS = [
    settlement.payment_confirmations_asset,
    settlement.captures,
    settlement.settlement_lines,
    settlement.scout_bounties,
    settlement.ledger_trial_balance,
]
PAYOUT_ASSETS = [payouts.payout_batch, payouts.payout_submission]

nightly_settlement = dg.define_asset_job(
    "nightly_settlement",
    selection=dg.AssetSelection.groups("settlement", "payouts", "analytics"),
    description="Settle one IST day: confirm payments, post captures, settlement lines and bounties, "
    "check everything, create and submit the day's payouts, refresh the analytics tables.",
)


@dg.schedule(
    job=nightly_settlement,
    cron_schedule="0 2 * * *",
    execution_timezone="Asia/Kolkata",
    name="nightly_settlement_0200_ist",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_settlement_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """At 02:00 IST, settle the IST day that just ended."""
    previous_day = (context.scheduled_execution_time.astimezone(IST) - dt.timedelta(days=1)).date()
    return dg.RunRequest(run_key=f"nightly-{previous_day}", partition_key=previous_day.isoformat())


@dg.job(description="Submit due pending payouts (retries whose backoff ran out, or the given ids or day).")
def submit_payouts() -> None:
    payouts.submit_payouts_op()


@dg.job(description="Finance: create one day's payouts (only if its blocking checks passed) and submit them.")
def create_and_submit_payouts() -> None:
    payouts.create_and_submit_payouts_op()


@dg.job(description="Finance: retry the given payouts (due now if waiting; a new payout if failed).")
def retry_payouts() -> None:
    payouts.retry_payouts_op()


@dg.job(description="Finance: cancel the given pending payouts; the money returns to the payees' balances.")
def cancel_payouts() -> None:
    payouts.cancel_payouts_op()


@dg.job(description="Finance: put a payee on hold or release the hold.")
def payee_hold() -> None:
    payouts.payee_hold_op()


@dg.job(description="Apply RazorpayX payout webhooks and poll payouts that are still processing.")
def payout_status() -> None:
    payouts.payout_status_op()


submit_payouts_schedule = dg.ScheduleDefinition(
    name="submit_payouts_every_15_minutes",
    job=submit_payouts,
    cron_schedule="*/15 * * * *",
    execution_timezone="Asia/Kolkata",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)


@dg.sensor(job=payout_status, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def payout_status_sensor(context: dg.SensorEvaluationContext, db: PostgresResource) -> dg.SensorResult:
    """Launch a status run when webhooks wait to be applied or payouts have been processing too long."""
    work = payouts.status_work(db)
    if not work:
        return dg.SensorResult(skip_reason="no payout webhooks or stale processing payouts")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"payout-status-{int(time.time() // 60)}")])


defs = dg.Definitions(
    assets=[*SETTLEMENT_ASSETS, *PAYOUT_ASSETS, *analytics.ANALYTICS_ASSETS],
    asset_checks=[*quality.CHECKS, payouts.payout_invariants],
    jobs=[
        nightly_settlement,
        submit_payouts,
        create_and_submit_payouts,
        retry_payouts,
        cancel_payouts,
        payee_hold,
        payout_status,
    ],
    schedules=[nightly_settlement_schedule, submit_payouts_schedule],
    sensors=[payout_status_sensor],
    resources={
        "db": PostgresResource(),
        "settings": SettingsResource(),
        "phonepe": PaymentsGatewayResource(
            base_url=dg.EnvVar("PHONEPE_BASE_URL"),
            client_id=dg.EnvVar("PHONEPE_CLIENT_ID"),
            client_secret=dg.EnvVar("PHONEPE_CLIENT_SECRET"),
        ),
        "razorpayx": PayoutsGatewayResource(
            base_url=dg.EnvVar("RAZORPAYX_BASE_URL"),
            key_id=dg.EnvVar("RAZORPAYX_KEY_ID"),
            key_secret=dg.EnvVar("RAZORPAYX_KEY_SECRET"),
            account_number=dg.EnvVar("RAZORPAYX_ACCOUNT_NUMBER"),
        ),
    },
    executor=dg.in_process_executor,
)
