"""Everything Dagster runs, wired explicitly in one place.

Assets and checks are defined in `assets/`; this module chooses which exist, how they are grouped
into jobs and when they run, and which resources they get. The in-process executor is the default:
on two cores the multiprocess executor costs about 2 s a step.
"""

from __future__ import annotations

import dagster as dg

from assets import ledger_checks
from assets.resources import PostgresResource, SettingsResource

ledger_check_job = dg.define_asset_job(
    "ledger_check_job",
    selection=dg.AssetSelection.checks_for_assets(ledger_checks.LEDGER),
    description="Run the ledger invariants against the live books.",
)

defs = dg.Definitions(
    assets=[ledger_checks.ledger_books],
    asset_checks=[ledger_checks.ledger_invariants],
    jobs=[ledger_check_job],
    resources={"db": PostgresResource(), "settings": SettingsResource()},
    executor=dg.in_process_executor,
)
