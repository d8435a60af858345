"""Payment confirmation throughput against the sandbox (zero latency), with its baseline in the same run.

Baseline: bare `PhonePeClient.order_status` calls for the same orders, same concurrency, nothing
recorded. Ours: `confirm_due` over the same number of due payments, i.e. the run lock, the due query,
the calls under the rate limiter (its cap set out of the way), and the answers recorded in chunks
while the calls go on. The difference per payment is our bookkeeping overhead. Target: ours within
1.5x of the baseline.

The sandbox knows the orders COMPLETED from a direct insert into its own tables, so no webhooks are in
flight while either side is timed.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa
import uvicorn

from bench.common import report, scratch_database
from domain.platform.database import create_engine, ensure_database, with_database
from domain.platform.settings import Settings
from domain.settlement.confirmation import ConfirmOptions, confirm_due
from gateways.http import HttpOptions
from gateways.phonepe.client import PhonePeClient
from gateways.sandbox import SandboxConfig, create_app

PAYMENTS = int(os.environ.get("BENCH_CONFIRMATIONS", "3000"))
CONCURRENCY = 8
WARM_UP = 50


@contextlib.contextmanager
def _sandbox(url: str, settings: Settings) -> Iterator[tuple[Settings, str]]:
    """The sandbox on a free loopback port with its own database; yields settings pointing at it."""
    sandbox_db = ensure_database(with_database(url, "postgres"), "bench_sandbox")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = settings.model_copy(update={"phonepe_base_url": f"{base}/phonepe", "log_level": "WARNING"})
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


def _seed(url: str, sandbox_db: str, count: int, paid_at: dt.datetime) -> None:
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


def _bare(client: PhonePeClient, ids: list[str]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(client.order_status, ids))
    elapsed = time.perf_counter() - started
    assert all(answer.state == "COMPLETED" for answer in answers)
    return elapsed


def main() -> None:
    now = dt.datetime.now(dt.UTC)
    with scratch_database("confirmations") as (url, settings), _sandbox(url, settings) as (settings, sandbox_db):
        _seed(url, sandbox_db, PAYMENTS + WARM_UP, now - dt.timedelta(hours=1))
        ids = [f"ord_bench_{n:08d}" for n in range(1, PAYMENTS + WARM_UP + 1)]
        client = PhonePeClient.from_settings(settings, options=HttpOptions(pool_size=CONCURRENCY, read_retries=0))
        _bare(client, ids[-WARM_UP:])  # warm up connections, the token and the sandbox
        baseline = _bare(client, ids[:PAYMENTS])

        engine = create_engine(url, pool_size=4)
        options = ConfirmOptions(concurrency=CONCURRENCY, requests_per_second=1_000_000.0, batch_size=PAYMENTS)
        summary = confirm_due(engine, client, options, now=now)
        ours = summary.elapsed_s
        assert dict(summary.verdicts) == {"confirmed": PAYMENTS}, summary.as_dict()
        with engine.connect() as conn:
            recorded = conn.execute(sa.text("SELECT count(*) FROM payment_confirmations WHERE confirmed")).scalar()
        assert recorded == PAYMENTS, recorded
        engine.dispose()
        client.close()
    print(f"{PAYMENTS} payments, concurrency {CONCURRENCY}, sandbox latency 0")
    print(f"baseline (bare order_status): {PAYMENTS / baseline:,.0f} payments/s")
    print(f"ours (confirm_due):           {PAYMENTS / ours:,.0f} payments/s")
    overhead_ms = (ours - baseline) / PAYMENTS * 1000
    print(f"overhead per payment: {overhead_ms:.3f} ms wall (run lock, due query, answers recorded in chunks)")
    report(f"confirm {PAYMENTS} payments", ours, baseline)


if __name__ == "__main__":
    main()
