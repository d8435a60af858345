"""`settle refunds submit|status|run`: the refunds job from the command line, in this process.

`submit` honours the crash-drill variables SETTLE_REFUNDS_PAUSE_AT and SETTLE_REFUNDS_PAUSE_FILE
(`cli.drill`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from typing import Any

import click

from cli.context import settings_or_exit
from cli.drill import pause_hook
from domain.platform.database import create_engine, database_url
from domain.platform.settings import Settings


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def submit_now(settings: Settings, **options: Any) -> dict[str, Any]:
    """Refund the stray payments the gateway confirms, then submit every approved refund that is due."""
    from domain.refunds import stray
    from domain.refunds.submission import RefundOptions, run_submission
    from gateways.phonepe.client import PhonePeClient

    refund_options = RefundOptions.from_settings(settings, **options)
    engine = create_engine(database_url(settings))
    try:
        with contextlib.closing(PhonePeClient.from_settings(settings)) as client:
            max_age = dt.timedelta(hours=settings.payment_confirmation_max_age_h)
            strays = stray.refund_stray_payments(engine, client, refund_options, now=_now(), max_age=max_age)
            summary = run_submission(
                database_url(settings), client, refund_options, now=_now(), hook=pause_hook("REFUNDS")
            )
    finally:
        engine.dispose()
    return {**{f"stray_{k}": v for k, v in sorted(strays.items())}, **summary.as_dict()}


def status_now(settings: Settings) -> dict[str, int]:
    """Apply stored refund webhooks (each checked by status), poll submitted refunds, alert on stuck ones."""
    from domain.refunds import status
    from domain.refunds.submission import RefundOptions
    from gateways.phonepe import webhooks
    from gateways.phonepe.client import PhonePeClient

    engine = create_engine(database_url(settings))
    try:
        with contextlib.closing(PhonePeClient.from_settings(settings)) as client:
            options = RefundOptions.from_settings(settings)
            return status.bring_up_to_date(engine, client, webhooks.parse_refund_event, options, now=_now())
    finally:
        engine.dispose()


@click.group()
def refunds() -> None:
    """Submit refunds to PhonePe and bring them up to date."""


@refunds.command()
@click.option("--refund-id", "refund_ids", multiple=True, help="Only these refunds.")
def submit(refund_ids: tuple[str, ...]) -> None:
    """Refund confirmed stray payments and submit approved refunds that are due."""
    click.echo(f"refund submission: {submit_now(settings_or_exit(), refund_ids=refund_ids or None)}")


@refunds.command()
def status() -> None:
    """Check refund webhooks and submitted refunds with PhonePe's status API and apply the answers."""
    click.echo(f"refund status: {status_now(settings_or_exit())}")
