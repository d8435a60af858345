"""Shared start-up for commands: settings (with a readable error) and the database URL."""

from __future__ import annotations

import click

from domain.database import database_url
from domain.logging import configure_logging
from domain.settings import ConfigurationError, Settings, load_settings


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(settings.log_level, "console" if settings.log_format == "console" else "json")
    return settings


def app_database_url(settings: Settings) -> str:
    return database_url(settings)
