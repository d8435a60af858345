"""`settle demo`: set everything up on the embedded database and show that it works."""

from __future__ import annotations

import click
import requests
from sqlalchemy.engine import make_url

from cli.context import app_database_url, settings_or_exit
from cli.migrate import migrate_to_head
from cli.processes import free_port, running, uvicorn_args


@click.command()
def demo() -> None:
    """Start the database, migrate, and check readiness through a short-lived API process."""
    settings = settings_or_exit()
    url = app_database_url(settings)
    click.echo(f"database:  {make_url(url).render_as_string(hide_password=True)}")
    revision = migrate_to_head(url, settings)
    click.echo(f"migration: {revision} (head)")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with running(uvicorn_args("ingest_api.app:create_app", port), f"{base}/healthz"):
        ready = requests.get(f"{base}/readyz", timeout=5)
    click.echo(f"/readyz:   {ready.status_code} {ready.text}")
    if ready.status_code != 200:
        raise click.ClickException("the API is not ready")
