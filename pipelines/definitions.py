"""Everything Dagster runs, assembled from each assets module's lists and the jobs, schedules and
sensors modules. Secrets arrive as `dg.EnvVar`. The in-process executor is the default: on two cores
the multiprocess executor costs about 2 s a step.
"""

from __future__ import annotations

import dagster as dg

from assets import (
    analytics,
    audit,
    backups,
    confirmation,
    fees,
    notifications,
    payouts,
    quality,
    reconciliation,
    refunds,
    settlement,
    statements,
)
from assets.resources import (
    EmailChannelResource,
    PaymentsGatewayResource,
    PayoutsGatewayResource,
    PostgresResource,
    SettingsResource,
)
from pipelines.jobs import JOBS
from pipelines.schedules import SCHEDULES
from pipelines.sensors import SENSORS

FEATURES = (
    confirmation,
    settlement,
    payouts,
    refunds,
    reconciliation,
    statements,
    analytics,
    quality,
    audit,
    backups,
    notifications,
    fees,
)

defs = dg.Definitions(
    assets=[asset for feature in FEATURES for asset in feature.ASSETS],
    asset_checks=[check for feature in FEATURES for check in feature.CHECKS],
    jobs=JOBS,
    schedules=SCHEDULES,
    sensors=SENSORS,
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
        "email": EmailChannelResource(password=dg.EnvVar("SMTP_PASSWORD")),
    },
    executor=dg.in_process_executor,
)
