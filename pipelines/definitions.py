"""Everything Dagster runs, wired explicitly in one place.

Assets and checks are defined in `assets/`; this module chooses which exist, how they are grouped
into jobs and when they run, and which resources they get. Secrets arrive as `dg.EnvVar`. The
in-process executor is the default: on two cores the multiprocess executor costs about 2 s a step.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg

from assets import analytics, quality, settlement
from assets.partitions import IST
from assets.resources import PaymentsGatewayResource, PostgresResource, SettingsResource

SETTLEMENT_ASSETS = [
    settlement.payment_confirmations_asset,
    settlement.captures,
    settlement.settlement_lines,
    settlement.scout_bounties,
    settlement.ledger_trial_balance,
]

nightly_settlement = dg.define_asset_job(
    "nightly_settlement",
    selection=dg.AssetSelection.groups("settlement", "analytics"),
    description="Settle one IST day: confirm payments, post captures, settlement lines and bounties, "
    "check everything, refresh the analytics tables.",
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


defs = dg.Definitions(
    assets=[*SETTLEMENT_ASSETS, *analytics.ANALYTICS_ASSETS],
    asset_checks=quality.CHECKS,
    jobs=[nightly_settlement],
    schedules=[nightly_settlement_schedule],
    resources={
        "db": PostgresResource(),
        "settings": SettingsResource(),
        "phonepe": PaymentsGatewayResource(
            base_url=dg.EnvVar("PHONEPE_BASE_URL"),
            client_id=dg.EnvVar("PHONEPE_CLIENT_ID"),
            client_secret=dg.EnvVar("PHONEPE_CLIENT_SECRET"),
        ),
    },
    executor=dg.in_process_executor,
)
