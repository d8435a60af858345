"""`settle db up|down|url`: the embedded PostgreSQL in the data dir (or the one DATABASE_URL names)."""

from __future__ import annotations

import click
from sqlalchemy.engine import make_url

from cli.context import settings_or_exit
from domain.platform.database import database_url, embedded_pgdata, stop_embedded_server


@click.group()
def db() -> None:
    """Manage the database server."""


@db.command()
def up() -> None:
    """Start the embedded server (if DATABASE_URL is unset) and create the application database."""
    settings = settings_or_exit()
    url = database_url(settings)
    where = "DATABASE_URL" if settings.database_url else f"embedded, data dir {embedded_pgdata(settings)}"
    click.echo(f"database ready ({where})")
    click.echo(make_url(url).render_as_string(hide_password=True))


@db.command()
def down() -> None:
    """Stop the embedded server; its data stays for the next `settle db up`."""
    settings = settings_or_exit()
    if settings.database_url:
        click.echo("DATABASE_URL is set: nothing embedded to stop")
        return
    stopped = stop_embedded_server(embedded_pgdata(settings))
    click.echo("embedded database stopped" if stopped else "embedded database was not running")


@db.command()
def url() -> None:
    """Print the application database URL (starting the embedded server if needed)."""
    click.echo(database_url(settings_or_exit()))
