"""Refunds in Dagster: the run the refunds sensor launches whenever there is work (stray payments to
check, approved refunds to submit, submitted ones and refund webhooks to check with the status API),
and finance's typed bulk decisions. The work itself is in `domain.refunds`.
"""

import contextlib
import datetime as dt

import dagster as dg

from assets.resources import PaymentsGatewayResource, PostgresResource, SettingsResource
from domain.refunds import finance, workflow
from domain.refunds.submission import RefundOptions
from gateways.phonepe import webhooks as phonepe_webhooks


class RefundIdsConfig(dg.Config):
    refund_ids: list[str]
    actor: str = "finance"
    reason: str = ""


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dg.op(
    description="Refund stray payments the gateway confirms, submit approved refunds to PhonePe (an earlier "
    "create is resolved by status first, never sent twice), and bring submitted refunds up to date by status, "
    "webhooks included; refunds with the gateway too long alert finance."
)
def run_refunds_op(
    context: dg.OpExecutionContext, db: PostgresResource, phonepe: PaymentsGatewayResource, settings: SettingsResource
) -> dict[str, object]:
    configured = settings.get()
    options = RefundOptions.from_settings(configured)
    with contextlib.closing(phonepe.client()) as client:
        summary = workflow.run_refunds(
            db.engine,
            client,
            phonepe_webhooks.parse_refund_event,
            options,
            now=_now(),
            stray_max_age=dt.timedelta(hours=configured.payment_confirmation_max_age_h),
        )
    context.log.info(f"refunds: {summary}")
    return summary


@dg.op(description="Finance: approve the given refunds waiting for approval; they are submitted by the next run.")
def approve_refunds_op(context: dg.OpExecutionContext, config: RefundIdsConfig, db: PostgresResource) -> dict[str, str]:
    results = finance.approve_refunds(db.engine, config.refund_ids, config.actor, config.reason or None, _now())
    context.log.info(f"approve: {results}")
    return results


@dg.op(description="Finance: reject the given refunds waiting for approval; their amounts can be refunded again.")
def reject_refunds_op(context: dg.OpExecutionContext, config: RefundIdsConfig, db: PostgresResource) -> dict[str, str]:
    if not config.reason:
        raise dg.Failure("a rejection needs a reason")
    results = finance.reject_refunds(db.engine, config.refund_ids, config.actor, config.reason, _now())
    context.log.info(f"reject: {results}")
    return results


@dg.op(description="Finance: refund the given failed refunds again, each as a new refund.")
def retry_refunds_op(context: dg.OpExecutionContext, config: RefundIdsConfig, db: PostgresResource) -> dict[str, str]:
    results = finance.retry_refunds(db.engine, config.refund_ids, config.actor, _now())
    context.log.info(f"retry: {results}")
    return results


def work_due(db: PostgresResource) -> bool:
    with db.begin() as conn:
        return workflow.work_due(conn, _now())


ASSETS: list[dg.AssetsDefinition] = []
CHECKS: list[dg.AssetChecksDefinition] = []
