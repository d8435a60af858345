"""`settle api-key create|revoke`: API keys for client services and admins.

The key is printed once, at creation; only its SHA-256 hash is stored, so it cannot be shown again.
"""

from __future__ import annotations

import click

from cli.context import settings_or_exit
from domain.platform.database import create_engine, database_url
from domain.users.api_keys import ApiKeyError, create_key, revoke_key
from domain.users.tables import API_KEY_ROLES


@click.group("api-key")
def api_key() -> None:
    """Create and revoke API keys."""


@api_key.command()
@click.option("--name", required=True, help="Unique name of the key (shown in logs; never the key).")
@click.option("--role", type=click.Choice(API_KEY_ROLES), required=True)
def create(name: str, role: str) -> None:
    """Create a key and print it once."""
    engine = create_engine(database_url(settings_or_exit()))
    try:
        with engine.begin() as conn:
            key = create_key(conn, name, role)
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        engine.dispose()
    click.echo(f"API key {name!r} ({role}); store it now, it cannot be shown again:")
    click.echo(key)


@api_key.command()
@click.option("--name", required=True)
def revoke(name: str) -> None:
    """Revoke a key; API workers stop accepting it within API_KEY_CACHE_TTL_S."""
    engine = create_engine(database_url(settings_or_exit()))
    try:
        with engine.begin() as conn:
            revoked = revoke_key(conn, name)
    finally:
        engine.dispose()
    if not revoked:
        raise click.ClickException(f"no live API key named {name!r}")
    click.echo(f"API key {name!r} revoked")
