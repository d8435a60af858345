"""`settle fees add|list|withdraw`: fee schedule versions from the command line (docs/fees.md).

A version takes effect from a future IST date; one in effect is never changed. Values not given to
`add` carry over from the version in effect on that date.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
import sqlalchemy as sa

from cli.context import settings_or_exit
from domain.fees import schedule, versions
from domain.fees.schedule import FEE_FIELDS, FeeSchedule
from domain.money import format_rupees
from domain.platform.clock import ist_date
from domain.platform.database import create_engine, database_url
from domain.platform.errors import DomainError

T = TypeVar("T")
LABELS = {
    "platform_fee_bps": "platform fee",
    "gateway_fee_bps": "gateway fee",
    "gateway_gst_bps": "GST on the gateway fee",
    "scout_bounty_paise": "scout bounty",
    "min_payout_paise": "minimum payout",
    "hold_days": "hold period",
}
IST_DATE = click.DateTime(formats=["%Y-%m-%d"])


def today_ist() -> dt.date:
    return ist_date(dt.datetime.now(dt.UTC))


def shown(name: str, value: int) -> str:
    """A schedule value for people: basis points with their percentage, paise in rupees, days."""
    if name.endswith("_bps"):
        return f"{value} bps ({value / 100:g}%)"
    if name.endswith("_paise"):
        return format_rupees(value)
    return f"{value} day" if value == 1 else f"{value} days"


@contextmanager
def _transaction() -> Iterator[sa.Connection]:
    engine = create_engine(database_url(settings_or_exit()))
    try:
        with engine.begin() as conn:
            yield conn
    finally:
        engine.dispose()


def _refusal_as_error(work: Callable[[], T]) -> T:
    try:
        return work()
    except DomainError as exc:
        raise click.ClickException(f"{exc.code}: {exc.message}") from None


@click.group()
def fees() -> None:
    """Fee schedule versions: add one effective from a future IST date, list them, withdraw a future one."""


@fees.command("add")
@click.option("--effective-from", type=IST_DATE, required=True, help="IST date (YYYY-MM-DD), after today.")
@click.option("--platform-fee-bps", type=int, help="Platform fee, basis points of the gross.")
@click.option("--gateway-fee-bps", type=int, help="Gateway fee, basis points of the gross.")
@click.option("--gateway-gst-bps", type=int, help="GST on the gateway fee, basis points of the fee.")
@click.option("--scout-bounty-paise", type=int, help="Bounty per recruit's first settled order.")
@click.option("--min-payout-paise", type=int, help="Smallest payout or scout withdrawal.")
@click.option("--hold-days", type=int, help="Days after payment before an undelivered order settles.")
@click.option("--replace", is_flag=True, help="Replace the future version of that date, if there is one.")
@click.option("--actor", default="finance", show_default=True, help="Who makes the change (audit log).")
def add(effective_from: dt.datetime, replace: bool, actor: str, **values: Any) -> None:
    """Add a version; values not given carry over from the version in effect on that date."""
    change = versions.FeeChange(**values)
    with _transaction() as conn:
        added = _refusal_as_error(
            lambda: versions.add_version(
                conn, effective_from.date(), change, today=today_ist(), actor=actor, replace=replace
            )
        )
    verb = "replaces the version" if added.replaced else "follows the version"
    version = added.version
    click.echo(
        f"fee schedule {version.fee_schedule_id} takes effect on {version.effective_from} (IST); "
        f"it {verb} of {added.carried_from.effective_from}:"
    )
    before = added.carried_from.values()
    for name, value in version.values().items():
        was = f"  (was {shown(name, before[name])})" if before[name] != value else ""
        click.echo(f"  {LABELS[name]:<24}{shown(name, value)}{was}")


@fees.command("list")
def list_versions() -> None:
    """Every version, oldest first, with the IST days it is (or will be) in effect."""
    with _transaction() as conn:
        found = schedule.all_versions(conn)
    today = today_ist()
    rows = [["id", "effective from", "until", "status", *(LABELS[name] for name in FEE_FIELDS)]]
    for version, following in zip(found, [*found[1:], None], strict=True):
        until = "-" if following is None else str(following.effective_from - dt.timedelta(days=1))
        cells = [str(version.fee_schedule_id), str(version.effective_from), until, _status(version, following, today)]
        rows.append(cells + [shown(name, value) for name, value in version.values().items()])
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        click.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def _status(version: FeeSchedule, following: FeeSchedule | None, today: dt.date) -> str:
    if version.effective_from > today:
        return "scheduled"
    return "in effect" if following is None or following.effective_from > today else "superseded"


@fees.command("withdraw")
@click.option("--effective-from", type=IST_DATE, required=True, help="IST date of the future version.")
@click.option("--actor", default="finance", show_default=True, help="Who makes the change (audit log).")
def withdraw(effective_from: dt.datetime, actor: str) -> None:
    """Withdraw a version that has not taken effect yet; the version before it stays in effect."""
    with _transaction() as conn:
        removed = _refusal_as_error(
            lambda: versions.withdraw_version(conn, effective_from.date(), today=today_ist(), actor=actor)
        )
    click.echo(f"fee schedule {removed.fee_schedule_id} (from {removed.effective_from}) withdrawn")
