"""Schedules: the nightly settlement at 02:00 IST for the day that just ended, the reconciliation of
that day's settlement report at 10:00 IST, payout retries every 15 minutes, the hourly ledger audit, the
daily backup at 02:30 IST."""

from __future__ import annotations

import datetime as dt

import dagster as dg

from domain.platform.clock import IST, TIMEZONE
from pipelines import jobs


@dg.schedule(
    job=jobs.nightly_settlement,
    cron_schedule="0 2 * * *",
    execution_timezone=TIMEZONE,
    name="nightly_settlement_0200_ist",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def nightly_settlement_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """At 02:00 IST, settle the IST day that just ended."""
    previous_day = (context.scheduled_execution_time.astimezone(IST) - dt.timedelta(days=1)).date()
    return dg.RunRequest(run_key=f"nightly-{previous_day}", partition_key=previous_day.isoformat())


@dg.schedule(
    job=jobs.reconciliation_job,
    cron_schedule="0 10 * * *",
    execution_timezone=TIMEZONE,
    name="reconciliation_1000_ist",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
def reconciliation_schedule(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    """At 10:00 IST, when PhonePe has published it, reconcile the report of the IST day before."""
    previous_day = (context.scheduled_execution_time.astimezone(IST) - dt.timedelta(days=1)).date()
    return dg.RunRequest(run_key=f"reconciliation-{previous_day}", partition_key=previous_day.isoformat())


submit_payouts_schedule = dg.ScheduleDefinition(
    name="submit_payouts_every_15_minutes",
    job=jobs.submit_payouts,
    cron_schedule="*/15 * * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

ledger_audit_schedule = dg.ScheduleDefinition(
    name="ledger_audit_hourly",
    job=jobs.ledger_audit,
    cron_schedule="30 * * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
)

backup_schedule = dg.ScheduleDefinition(
    name="backup_0230_ist",
    job=jobs.backup,
    cron_schedule="30 2 * * *",
    execution_timezone=TIMEZONE,
    default_status=dg.DefaultScheduleStatus.RUNNING,
    description="Daily backup of the system of record, from one consistent snapshot (a nightly run still at work "
    "is caught as of the moment the snapshot is taken).",
)

SCHEDULES = [
    nightly_settlement_schedule,
    reconciliation_schedule,
    submit_payouts_schedule,
    ledger_audit_schedule,
    backup_schedule,
]
