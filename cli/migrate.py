"""`settle migrate`: upgrade the schema to head and seed the first fee schedule from the settings."""

from __future__ import annotations

import click

from cli.context import settings_or_exit
from domain import migrations
from domain.database import create_engine, database_url
from domain.settings import Settings


def migrate_to_head(url: str, settings: Settings) -> str | None:
    migrations.upgrade(url)
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            migrations.seed_fee_schedule(conn, settings)
            return migrations.current_revision(conn)
    finally:
        engine.dispose()


@click.command()
def migrate() -> None:
    """Apply every pending migration."""
    settings = settings_or_exit()
    revision = migrate_to_head(database_url(settings), settings)
    click.echo(f"schema at {revision}")
