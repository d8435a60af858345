"""`settle notifications dispatch|sink`: deliver the outbox from the command line, and the local mail sink.

`dispatch` honours the crash-drill variables SETTLE_NOTIFICATIONS_PAUSE_AT (`claimed`,
`channel_answered`) and SETTLE_NOTIFICATIONS_PAUSE_FILE (`cli.drill`).
"""

from __future__ import annotations

import time
from pathlib import Path

import click

from cli.context import settings_or_exit
from cli.drill import pause_hook
from domain.notifications.dispatch import DispatchSummary
from domain.platform.database import create_engine, database_url
from domain.platform.settings import Settings


def dispatch_now(settings: Settings, max_rounds: int | None = None) -> DispatchSummary:
    """Route the pending outbox and send every due delivery, by email (SMTP_*) and in the app."""
    from domain.notifications.channels import InAppChannel
    from domain.notifications.dispatch import DispatchOptions, dispatch
    from gateways.smtp.client import SmtpChannel

    engine = create_engine(database_url(settings))
    try:
        channels = {"email": SmtpChannel.from_settings(settings), "in_app": InAppChannel()}
        options = DispatchOptions.from_settings(settings)
        return dispatch(engine, channels, options, max_rounds=max_rounds, hook=pause_hook("NOTIFICATIONS"))
    finally:
        engine.dispose()


@click.group()
def notifications() -> None:
    """Deliver notifications (email and in-app) and run the local mail sink."""


@notifications.command()
@click.option("--max-rounds", type=click.IntRange(min=1), help="Stop after this many claim-send-record rounds.")
def dispatch(max_rounds: int | None) -> None:
    """Send every due notification once; failed sends are retried by a later dispatch."""
    summary = dispatch_now(settings_or_exit(), max_rounds)
    click.echo(f"notifications dispatched: {summary.as_dict()}")


@notifications.command()
@click.option("--host", default=None, help="Address to listen on (default SMTP_HOST).")
@click.option("--port", type=int, default=None, help="Port to listen on (default SMTP_PORT).")
@click.option("--maildir", type=click.Path(path_type=Path), default=None, help="Default DATA_DIR/mail.")
def sink(host: str | None, port: int | None, maildir: Path | None) -> None:
    """A local SMTP server that keeps every message in a Maildir (never relays): for dev and demo."""
    from gateways.smtp.sink import start_sink

    settings = settings_or_exit()
    maildir = maildir or settings.data_dir / "mail"
    controller, _ = start_sink(host or settings.smtp_host, port or settings.smtp_port, maildir=maildir)
    click.echo(f"mail sink on smtp://{controller.hostname}:{controller.port}, messages in {maildir}/new")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()
