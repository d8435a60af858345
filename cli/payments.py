"""`settle payments confirm`: the payment confirmation that the sensor launches every few minutes,
run now in this process (the same workflow, `domain.settlement.confirmation.confirm_due`)."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from typing import Any

import click

from cli.context import settings_or_exit
from domain.platform.database import create_engine, database_url
from domain.platform.settings import Settings


def confirm_now(settings: Settings, *, now: dt.datetime | None = None) -> dict[str, Any]:
    """One confirmation run against PHONEPE_BASE_URL; the client does not retry by itself, so every
    request passes the workflow's rate limiter."""
    from domain.settlement.confirmation import ConfirmOptions, confirm_due
    from gateways.http import HttpOptions
    from gateways.phonepe.client import PhonePeClient

    options = ConfirmOptions.from_settings(settings)
    http = dataclasses.replace(HttpOptions.from_settings(settings), read_retries=0)
    engine = create_engine(database_url(settings))
    try:
        with contextlib.closing(PhonePeClient.from_settings(settings, options=http)) as client:
            return confirm_due(engine, client, options, now=now or dt.datetime.now(dt.UTC)).as_dict()
    finally:
        engine.dispose()


@click.group()
def payments() -> None:
    """Confirm buyers' payments with the gateway."""


@payments.command()
@click.option("--concurrency", type=click.IntRange(1, 64), help="Overrides PAYMENT_CONFIRMATION_CONCURRENCY.")
@click.option(
    "--requests-per-second",
    type=click.FloatRange(min=0, min_open=True),
    help="Overrides PAYMENT_CONFIRMATION_REQUESTS_PER_SECOND.",
)
def confirm(concurrency: int | None, requests_per_second: float | None) -> None:
    """Ask PhonePe's status API about every payment due for confirmation, and record the answers."""
    settings = settings_or_exit()
    overrides: dict[str, object] = {}
    if concurrency is not None:
        overrides["payment_confirmation_concurrency"] = concurrency
    if requests_per_second is not None:
        overrides["payment_confirmation_requests_per_second"] = requests_per_second
    result = confirm_now(settings.model_copy(update=overrides))
    if result["busy"]:
        click.echo("payment confirmation: another run holds the lock; nothing done")
        return
    click.echo(f"payment confirmation: {result}")
