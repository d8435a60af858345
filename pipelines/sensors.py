"""Sensors: launch a run when there is work, and say why not when there is none."""

from __future__ import annotations

import datetime as dt
import time

import dagster as dg

from assets import confirmation, notifications, payouts, refunds
from assets.resources import PostgresResource, SettingsResource
from pipelines import jobs

CONFIRMATION_INTERVAL_S = 180
"""How often the confirmation sensor looks for due payments: payments are confirmed within minutes of
their webhook, not in one burst at night."""

UNFINISHED = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dg.sensor(job=jobs.payout_status, minimum_interval_seconds=60, default_status=dg.DefaultSensorStatus.RUNNING)
def payout_status_sensor(context: dg.SensorEvaluationContext, db: PostgresResource) -> dg.SensorResult:
    """Launch a status run when webhooks wait to be applied or payouts have been processing too long."""
    if not payouts.status_work(db):
        return dg.SensorResult(skip_reason="no payout webhooks or stale processing payouts")
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=f"payout-status-{int(time.time() // 60)}")])


@dg.sensor(
    job=jobs.payment_confirmation,
    minimum_interval_seconds=CONFIRMATION_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def payment_confirmation_sensor(
    context: dg.SensorEvaluationContext, db: PostgresResource, settings: SettingsResource
) -> dg.SensorResult:
    """Launch a confirmation run when payments are due, unless one is still running (it would find
    the run lock taken and do nothing)."""
    unfinished = dg.RunsFilter(job_name=jobs.payment_confirmation.name, statuses=UNFINISHED)
    if context.instance.get_runs(filters=unfinished, limit=1):
        return dg.SensorResult(skip_reason="a payment confirmation run is still in progress")
    now = dt.datetime.now(dt.UTC)
    if not confirmation.payments_due(db, settings.get(), now):
        return dg.SensorResult(skip_reason="no payment is due for confirmation")
    run_key = f"payment-confirmation-{int(now.timestamp() // CONFIRMATION_INTERVAL_S)}"
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=run_key)])


REFUNDS_INTERVAL_S = 60


@dg.sensor(
    job=jobs.refund_processing,
    minimum_interval_seconds=REFUNDS_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def refunds_sensor(context: dg.SensorEvaluationContext, db: PostgresResource) -> dg.SensorResult:
    """Launch a refunds run when refunds are due for submission or a status check, refund webhooks wait,
    or stray payments are to be checked, unless one is still running."""
    unfinished = dg.RunsFilter(job_name=jobs.refund_processing.name, statuses=UNFINISHED)
    if context.instance.get_runs(filters=unfinished, limit=1):
        return dg.SensorResult(skip_reason="a refunds run is still in progress")
    if not refunds.work_due(db):
        return dg.SensorResult(skip_reason="no refund work is due")
    run_key = f"refunds-{int(time.time() // REFUNDS_INTERVAL_S)}"
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=run_key)])


NOTIFICATIONS_INTERVAL_S = 30


@dg.sensor(
    job=jobs.dispatch_notifications,
    minimum_interval_seconds=NOTIFICATIONS_INTERVAL_S,
    default_status=dg.DefaultSensorStatus.RUNNING,
)
def notifications_sensor(context: dg.SensorEvaluationContext, db: PostgresResource) -> dg.SensorResult:
    """Launch a dispatch when notifications wait to be routed or sent, unless one is still running
    (two at once would be safe, each claiming its own deliveries, but one keeps up)."""
    unfinished = dg.RunsFilter(job_name=jobs.dispatch_notifications.name, statuses=UNFINISHED)
    if context.instance.get_runs(filters=unfinished, limit=1):
        return dg.SensorResult(skip_reason="a notifications dispatch is still in progress")
    if not notifications.work_due(db):
        return dg.SensorResult(skip_reason="no notification is due")
    run_key = f"notifications-{int(time.time() // NOTIFICATIONS_INTERVAL_S)}"
    return dg.SensorResult(run_requests=[dg.RunRequest(run_key=run_key)])


SENSORS = [payout_status_sensor, payment_confirmation_sensor, refunds_sensor, notifications_sensor]
