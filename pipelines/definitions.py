"""Everything Dagster runs, wired explicitly in one place.

Assets and checks are defined in `assets/`; this module chooses which exist, how they are grouped
into jobs and when they run, and which resources they get. Secrets arrive as `dg.EnvVar`. The
in-process executor is the default: on two cores the multiprocess executor costs about 2 s a step.
"""

from __future__ import annotations

import dagster as dg

from assets import analytics, quality, settlement
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

nightly_settlement_schedule = dg.build_schedule_from_partitioned_job(
    nightly_settlement,
    hour_of_day=2,
    minute_of_hour=0,
    name="nightly_settlement_0200_ist",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

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
