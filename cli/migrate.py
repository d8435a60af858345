"""`settle migrate`: upgrade the schema to head, seed the first fee schedule from the settings, and
write the Dagster instance (its own database beside ours) that the webserver and daemon start from."""

from __future__ import annotations

import click

from cli.context import settings_or_exit
from domain.fees.schedule import seed_fee_schedule
from domain.platform import migrations
from domain.platform.database import create_engine, database_url
from domain.platform.settings import Settings
from pipelines.instance import prepare_dagster_home


def migrate_to_head(url: str, settings: Settings) -> str | None:
    migrations.upgrade(url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            seed_fee_schedule(conn, settings)
            return migrations.current_revision(conn)
    finally:
        engine.dispose()


@click.command()
def migrate() -> None:
    """Apply every pending migration and write the Dagster instance (DAGSTER_HOME)."""
    settings = settings_or_exit()
    revision = migrate_to_head(database_url(settings), settings)
    click.echo(f"schema at {revision}")
    click.echo(f"Dagster instance at {prepare_dagster_home(settings)}")
