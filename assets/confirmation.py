"""Payment confirmation in Dagster: the op that the confirmation sensor launches every few minutes
(finance can launch its job from the UI too), and the sensor's question. The workflow itself is
`domain.settlement.confirmation`; the nightly settlement only reads what it recorded.
"""

import contextlib
import datetime as dt

import dagster as dg

from assets.resources import PaymentsGatewayResource, PostgresResource, SettingsResource
from domain.platform.settings import Settings
from domain.settlement import confirmation


@dg.op(
    description="Ask PhonePe's status API about every payment due for confirmation (success and failure "
    "webhooks alike), rate-limited, and record the answers: confirmed payments are captured by the next "
    "nightly run; pending ones are asked again later; unconfirmable or expired ones alert finance."
)
def confirm_payments_op(
    context: dg.OpExecutionContext, db: PostgresResource, phonepe: PaymentsGatewayResource, settings: SettingsResource
) -> dict[str, object]:
    options = confirmation.ConfirmOptions.from_settings(settings.get())
    with contextlib.closing(phonepe.status_client(options.concurrency)) as client:
        summary = confirmation.confirm_due(db.engine, client, options, now=dt.datetime.now(dt.UTC))
    context.log.info(f"payment confirmation: {summary.as_dict()}")
    return summary.as_dict()


def payments_due(db: PostgresResource, settings: Settings, now: dt.datetime) -> bool:
    with db.begin() as conn:
        return confirmation.any_due(conn, now, confirmation.ConfirmOptions.from_settings(settings))


ASSETS: list[dg.AssetsDefinition] = []
CHECKS: list[dg.AssetChecksDefinition] = []
