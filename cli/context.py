"""Shared start-up for commands: settings, with a readable error naming the bad variable."""

from __future__ import annotations

import click

from domain.platform.logging import configure_logging
from domain.platform.settings import ConfigurationError, Settings, load_settings


def settings_or_exit() -> Settings:
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        raise click.ClickException(str(exc)) from None
    configure_logging(settings.log_level, settings.log_format)
    return settings
