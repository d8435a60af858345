"""Notifications: the dispatch op the notifications sensor launches whenever deliveries are due."""

import dagster as dg

from assets.resources import EmailChannelResource, PostgresResource, SettingsResource
from domain.notifications.channels import InAppChannel
from domain.notifications.dispatch import DispatchOptions, dispatch
from domain.platform.sql import statement


@dg.op(
    description="Route the pending outbox into deliveries and send every due one by email and in the app, "
    "claiming each under a lease; failed sends are retried with backoff by later runs."
)
def dispatch_notifications_op(
    context: dg.OpExecutionContext, db: PostgresResource, settings: SettingsResource, email: EmailChannelResource
) -> dict[str, int]:
    current = settings.get()
    channels = {"email": email.channel(current), "in_app": InAppChannel()}
    summary = dispatch(db.engine, channels, DispatchOptions.from_settings(current))
    context.add_output_metadata({name: dg.MetadataValue.int(count) for name, count in summary.as_dict().items()})
    return summary.as_dict()


def work_due(db: PostgresResource) -> bool:
    """Pending outbox rows to route, or deliveries due (including ones whose lease ran out)."""
    with db.begin() as conn:
        return bool(conn.execute(statement("notifications/due")).scalar_one())


ASSETS: list[dg.AssetsDefinition] = []
CHECKS: list[dg.AssetChecksDefinition] = []
