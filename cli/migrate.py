"""`settle migrate`: upgrade the schema to head, seed the first fee schedule from the settings, and
write the Dagster instance (its own database beside ours) that the webserver and daemon start from.

The fee settings seed only the first schedule. When they no longer match the schedule in effect
(someone changed PLATFORM_FEE_BPS expecting the fee to change), every migrate says so, loudly, and
points at `settle fees add`: the change would otherwise be silently ignored.
"""

from __future__ import annotations

import datetime as dt

import click
import sqlalchemy as sa
import structlog

from cli.context import settings_or_exit
from domain.fees import schedule
from domain.platform import migrations
from domain.platform.clock import ist_date
from domain.platform.database import create_engine, database_url
from domain.platform.settings import Settings
from pipelines.instance import prepare_dagster_home

log = structlog.get_logger(__name__)


def migrate_to_head(url: str, settings: Settings) -> str | None:
    migrations.upgrade(url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            if not schedule.seed_fee_schedule(conn, settings):
                warn_of_fee_settings(conn, settings, ist_date(dt.datetime.now(dt.UTC)))
            return migrations.current_revision(conn)
    finally:
        engine.dispose()


def warn_of_fee_settings(conn: sa.Connection, settings: Settings, today: dt.date) -> None:
    """Log and print the fee variables that differ from the schedule in effect today, if any."""
    differences = schedule.settings_differences(conn, settings, today)
    if not differences:
        return
    version = schedule.in_effect(conn, today)
    log.warning(
        "fee settings differ from the fee schedule in effect; they only seed the first schedule",
        fee_schedule_id=version.fee_schedule_id,
        effective_from=str(version.effective_from),
        differences={d.variable: {"setting": d.setting_value, "in_effect": d.in_effect_value} for d in differences},
    )
    lines = [
        f"Warning: these fee variables differ from the fee schedule in effect today ({today}, IST: version "
        f"{version.fee_schedule_id}, effective from {version.effective_from}):"
    ]
    lines += [f"  {d.variable}={d.setting_value}, but {d.in_effect_value} is in effect" for d in differences]
    options = " ".join(f"--{d.variable.lower().replace('_', '-')} {d.setting_value}" for d in differences)
    lines += [
        "They only seed the first schedule and change nothing now. To change a fee, add a version from a",
        f"future IST date: settle fees add --effective-from YYYY-MM-DD {options}  (docs/fees.md)",
    ]
    click.echo("\n".join(lines), err=True)


@click.command()
def migrate() -> None:
    """Apply every pending migration and write the Dagster instance (DAGSTER_HOME)."""
    settings = settings_or_exit()
    revision = migrate_to_head(database_url(settings), settings)
    click.echo(f"schema at {revision}")
    click.echo(f"Dagster instance at {prepare_dagster_home(settings)}")
