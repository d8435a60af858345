"""Refund submission throughput against the sandbox (zero latency), with its baseline in the same run.

Baseline: bare `PhonePeClient.create_refund` calls, same concurrency, nothing recorded. Ours:
`submit_due` over the same number of approved refunds, i.e. per batch of refunds a row-locked claim,
their attempt rows committed before the first call, and their answers and new states committed after.
The difference per refund is our bookkeeping overhead. Target: ours within 1.5x of the baseline.
"""

from __future__ import annotations

import datetime as dt
import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from bench.common import report, sandbox_server, scratch_database, seed_paid_orders
from domain.platform.database import create_engine
from domain.refunds.submission import RefundOptions, submit_due
from gateways.http import HttpOptions
from gateways.phonepe.client import PhonePeClient

REFUNDS = 600
CONCURRENCY = 4
WARM_UP = 20

APPROVED = """
INSERT INTO refunds (refund_id, order_id, buyer_id, seller_id, amount_paise, reason, status, requested_by,
                     next_attempt_at)
SELECT 'rfd_bench_' || o.order_id, o.order_id, o.buyer_id, o.seller_id, 1000, 'customer_request', 'approved',
       'bench', :now
FROM orders o WHERE o.order_id = ANY (CAST(:order_ids AS text[]))
"""


def main() -> None:
    now = dt.datetime.now(dt.UTC)
    total = WARM_UP + 2 * REFUNDS
    with scratch_database("refunds") as (url, settings), sandbox_server(url, settings) as (settings, sandbox_db):
        seed_paid_orders(url, sandbox_db, total, now - dt.timedelta(hours=1))
        ids = [f"ord_bench_{n:08d}" for n in range(1, total + 1)]
        warm, bare_ids, our_ids = ids[:WARM_UP], ids[WARM_UP : WARM_UP + REFUNDS], ids[WARM_UP + REFUNDS :]
        client = PhonePeClient.from_settings(settings, options=HttpOptions(pool_size=2 * CONCURRENCY))

        def bare(order_id: str) -> None:
            assert client.create_refund(f"rfd_bare_{order_id}", order_id, 1000).state == "PENDING"

        for order_id in warm:  # warm up connections, the token and the sandbox
            bare(order_id)
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(bare, bare_ids))
        baseline = time.perf_counter() - started

        engine = create_engine(url, pool_size=2 * CONCURRENCY + 1)
        with engine.begin() as conn:
            conn.execute(sa.text(APPROVED), {"now": now, "order_ids": our_ids})
        options = RefundOptions(concurrency=CONCURRENCY, requests_per_second=1_000_000.0)
        summary = submit_due(engine, client, options, now=now)
        ours = summary.elapsed_s
        assert dict(summary.outcomes) == {"submitted": REFUNDS}, summary.as_dict()
        engine.dispose()
        client.close()
    print(f"{REFUNDS} refunds, concurrency {CONCURRENCY}, sandbox latency 0")
    print(f"baseline (bare create_refund): {REFUNDS / baseline:,.0f} refunds/s")
    print(f"ours (submit_due):             {REFUNDS / ours:,.0f} refunds/s")
    overhead_ms = (ours - baseline) / REFUNDS * 1000
    print(
        f"overhead per refund: {overhead_ms:.2f} ms wall, {overhead_ms * CONCURRENCY:.2f} ms per worker "
        "(its share of the batch's claim, attempts committed before the calls, answers and states after)"
    )
    report(f"submit {REFUNDS} refunds", ours, baseline)


if __name__ == "__main__":
    main()
