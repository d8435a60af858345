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

import datetime as dt
import os
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from bench.common import report, sandbox_server, scratch_database, seed_paid_orders
from domain.platform.database import create_engine
from domain.settlement.confirmation import ConfirmOptions, confirm_due
from gateways.http import HttpOptions
from gateways.phonepe.client import PhonePeClient

PAYMENTS = int(os.environ.get("BENCH_CONFIRMATIONS", "3000"))
CONCURRENCY = 8
WARM_UP = 50


def _bare(client: PhonePeClient, ids: list[str]) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        answers = list(pool.map(client.order_status, ids))
    elapsed = time.perf_counter() - started
    assert all(answer.state == "COMPLETED" for answer in answers)
    return elapsed


def main() -> None:
    now = dt.datetime.now(dt.UTC)
    with scratch_database("confirmations") as (url, settings), sandbox_server(url, settings) as (settings, sandbox_db):
        seed_paid_orders(url, sandbox_db, PAYMENTS + WARM_UP, now - dt.timedelta(hours=1))
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
