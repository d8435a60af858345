"""The demo's notifications: the day's outbox delivered to an SMTP sink the demo starts itself, the
counts per event and channel, and one seller's statement email as the seller reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa

from cli.notifications import dispatch_now
from domain.platform.settings import Settings
from domain.platform.sql import statement
from gateways.smtp.sink import start_sink


def choose_preferences(market: Any, engine: sa.Engine) -> str:
    """The first buyer who paid wants payment news only in the app: their payment emails are recorded
    `suppressed` when the day's notifications are routed."""
    with engine.connect() as conn:
        buyer = conn.execute(
            sa.text("SELECT min(user_id) FROM notifications WHERE event_type = 'payment_succeeded'")
        ).scalar_one()
    body = {"preferences": [{"category": "payments", "channel": "email", "enabled": False}]}
    response = market.http.put(
        f"{market.api}/v1/users/{buyer}/notification-preferences",
        json=body,
        headers={"Authorization": f"Bearer {market.key}"},
        timeout=30,
    )
    if response.status_code != 200:
        raise click.ClickException(f"preferences answered {response.status_code}: {response.text[:300]}")
    return str(buyer)


def deliver_notifications(settings: Settings, engine: sa.Engine) -> None:
    maildir = Path(settings.data_dir) / "demo-mail"
    controller, handler = start_sink(maildir=maildir)
    try:
        sink = settings.model_copy(update={"smtp_host": controller.hostname, "smtp_port": controller.port})
        summary = dispatch_now(sink)
    finally:
        controller.stop()
    click.echo(f"\nNotifications (email to the demo's SMTP sink, {len(handler.messages)} messages in {maildir}/new):")
    click.echo(f"  {'event':28s} {'channel':8s} {'sent':>5s} {'suppressed':>10s} {'retrying':>8s}")
    with engine.connect() as conn:
        for row in conn.execute(statement("demo/deliveries")):
            click.echo(f"  {row.event_type:28s} {row.channel:8s} {row.sent:5d} {row.suppressed:10d} {row.other:8d}")
    click.echo(f"  dispatch: {summary.as_dict()}")
    statements = [m for m in handler.messages if m["X-Notification-Event"] == "settlement_statement"]
    paid = [m for m in statements if "payout" in str(m["Subject"])]
    if statements:
        email = (paid or statements)[0]
        click.echo(f"\nOne statement email, as the seller reads it (To: {email['To']}):")
        click.echo(f"  Subject: {str(email['Subject']).strip()}")
        body = email.get_body(("plain",))
        assert body is not None
        for line in body.get_content().splitlines():
            click.echo(f"  {line}".rstrip())
