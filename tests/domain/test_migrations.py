"""Alembic owns the schema: it goes up, down and up again, and matches the table definitions."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from domain.platform.database import create_engine
from domain.platform.migrations import current_revision, downgrade, head_revision, upgrade
from domain.schema import COMPARE_OPTIONS, metadata

VERSIONS = Path(__file__).resolve().parents[2] / "migrations" / "versions"


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def _schemas(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(conn.execute(sa.text("SELECT nspname FROM pg_namespace WHERE nspname = 'analytics'")).scalars())
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(make_database) -> None:  # type: ignore[no-untyped-def]
    url = make_database("migrate")
    upgrade(url)
    assert _tables(url) >= {t.name for t in metadata.tables.values() if t.schema is None}
    downgrade(url, "base")
    assert _tables(url) == set()
    assert _schemas(url) == set()
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert current_revision(conn) == head_revision(url)
    engine.dispose()


def test_autogenerate_finds_no_drift(database_url: str) -> None:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts=COMPARE_OPTIONS), metadata)
    engine.dispose()
    assert diff == []


def test_migration_files_are_date_prefixed() -> None:
    files = [p.name for p in VERSIONS.glob("*.py") if p.name != "__init__.py"]
    assert files
    assert all(name[:8].isdigit() and name[8] == "_" for name in files), files
