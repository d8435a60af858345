"""Running Alembic from code: upgrade, the current and head revisions, and the fee schedule seed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from domain.schema import fee_schedules
from domain.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
FIRST_SCHEDULE_DATE = dt.date(2000, 1, 1)


def alembic_config(url: str) -> Config:
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def current_revision(conn: sa.Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def seed_fee_schedule(conn: sa.Connection, settings: Settings) -> bool:
    """Create the first fee schedule from the settings; later versions are new rows, never edits."""
    if conn.execute(sa.select(sa.func.count()).select_from(fee_schedules)).scalar_one():
        return False
    conn.execute(
        sa.insert(fee_schedules).values(
            effective_from=FIRST_SCHEDULE_DATE,
            platform_fee_bps=settings.platform_fee_bps,
            gateway_fee_bps=settings.gateway_fee_bps,
            scout_bounty_paise=settings.scout_bounty_paise,
            min_payout_paise=settings.min_payout_paise,
            hold_days=settings.hold_days,
        )
    )
    return True
