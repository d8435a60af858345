"""Sensors: launch a run when there is work, and say why not when there is none."""

from __future__ import annotations

import time

import dagster as dg

from assets import payouts
from assets.resources import PostgresResource
from pipelines import jobs


@dg.sensor(job=jobs.payout_status, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def payout_status_sensor(context: dg.SensorEvaluationContext, db: PostgresResource) -> dg.SensorResult:
    """Launch a status run when webhooks wait to be applied or payouts have been processing too long."""
    if not payouts.status_work(db):
        return dg.SensorResult(skip_reason="no payout webhooks or stale processing payouts")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"payout-status-{int(time.time() // 60)}")])


SENSORS = [payout_status_sensor]
