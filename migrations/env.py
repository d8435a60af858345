"""Alembic environment: the URL comes from the caller (`settle migrate`, tests) or the settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

from domain.platform.database import create_engine, database_url
from domain.platform.settings import load_settings
from domain.schema import COMPARE_OPTIONS, metadata

config = context.config


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or database_url(load_settings())


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(connection=connection, target_metadata=metadata, **COMPARE_OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, **COMPARE_OPTIONS)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
