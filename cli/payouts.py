"""`settle payouts create|submit|status`: the payout jobs from the command line, in this process.

`submit` honours the crash-drill variables SETTLE_PAYOUTS_PAUSE_AT and SETTLE_PAYOUTS_PAUSE_FILE
(`cli.drill`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import time
from typing import Any

import click

from cli.context import settings_or_exit
from cli.drill import pause_hook
from domain.platform.database import create_engine, database_url
from domain.platform.settings import Settings
from domain.platform.sql import statement


def submit_now(settings: Settings, **options: Any) -> dict[str, Any]:
    from domain.payouts.submission import SubmitOptions, run_submission
    from gateways.razorpayx.client import RazorpayXClient

    with contextlib.closing(RazorpayXClient.from_settings(settings)) as client:
        options = SubmitOptions.from_settings(settings, **options)
        return run_submission(database_url(settings), client, options, hook=pause_hook("PAYOUTS")).as_dict()


def create_now(settings: Settings, day: dt.date) -> dict[str, Any]:
    from domain.payouts.submission import create_batch

    engine = create_engine(database_url(settings))
    try:
        with engine.begin() as conn:
            return create_batch(conn, day, settled_funds_only=settings.payout_requires_settled_funds)
    finally:
        engine.dispose()


def status_now(settings: Settings, *, poll_after_s: float = 0.0) -> dict[str, int]:
    from domain.payouts.status import bring_up_to_date
    from gateways.razorpayx import webhooks
    from gateways.razorpayx.client import RazorpayXClient

    engine = create_engine(database_url(settings))
    try:
        with contextlib.closing(RazorpayXClient.from_settings(settings)) as client:
            return bring_up_to_date(engine, client, webhooks.parse, poll_after_s=poll_after_s)
    finally:
        engine.dispose()


def run_payouts(settings: Settings, day: dt.date, *, settle_wait_s: float = 5.0) -> dict[str, Any]:
    """Create (if the nightly run has not) and submit the day's payouts, then bring their status up to date.

    For the demo: returns {"created", "submission", "status", "payouts": [row dicts], "totals": {status:
    [count, paise]}} where a payout that needed more than one attempt counts as retried in "retried".
    """
    created = create_now(settings, day)
    submission = submit_now(settings, batch_date=day)
    deadline = time.monotonic() + settle_wait_s
    status: dict[str, int] = {}
    engine = create_engine(database_url(settings))
    try:
        while True:
            for key, value in status_now(settings).items():
                status[key] = status.get(key, 0) + value
            with engine.connect() as conn:
                rows = [dict(row._mapping) for row in conn.execute(statement("payouts/of_day"), {"day": day})]
            if not any(row["status"] in ("pending", "processing") for row in rows) or time.monotonic() > deadline:
                break
            time.sleep(0.5)
    finally:
        engine.dispose()
    totals: dict[str, list[int]] = {}
    for row in rows:
        count_paise = totals.setdefault(row["status"], [0, 0])
        count_paise[0] += 1
        count_paise[1] += row["amount_paise"]
    return {
        "created": created["payouts_created"],
        "held_back": created["held_back"],
        "submission": submission,
        "status": status,
        "payouts": rows,
        "totals": totals,
        "retried": sum(1 for row in rows if row["attempt_count"] > 1 or row["retry_of_payout_id"]),
    }


@click.group()
def payouts() -> None:
    """Create, submit and track payouts to sellers and scouts."""


@payouts.command()
@click.option("--date", "day", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Batch day (IST).")
def create(day: dt.datetime) -> None:
    """Create one day's payout batch (the nightly job does this after its checks pass)."""
    result = create_now(settings_or_exit(), day.date())
    click.echo(f"payouts created: {result['payouts_created']} ({result['amount_paise']} paise)")
    for held in result["held_back"]:
        click.echo(f"  held back: {held['payee_type']} {held['payee_id']} ({held['reason']})")


@payouts.command()
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), help="Only this batch day.")
@click.option("--payout-id", "payout_ids", multiple=True, help="Only these payouts.")
@click.option("--concurrency", type=click.IntRange(1, 64), help="Overrides PAYOUT_CONCURRENCY.")
def submit(day: dt.datetime | None, payout_ids: tuple[str, ...], concurrency: int | None) -> None:
    """Submit due pending payouts to RazorpayX."""
    settings = settings_or_exit()
    if concurrency is not None:
        settings = settings.model_copy(update={"payout_concurrency": concurrency})
    result = submit_now(settings, batch_date=day.date() if day else None, payout_ids=payout_ids or None)
    click.echo(f"payout submission: {result}")


@payouts.command()
@click.option("--poll-after-s", default=0.0, show_default=True, help="Poll payouts processing for this long.")
def status(poll_after_s: float) -> None:
    """Apply stored RazorpayX webhooks and poll payouts still processing."""
    click.echo(f"payout status: {status_now(settings_or_exit(), poll_after_s=poll_after_s)}")
