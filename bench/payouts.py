"""Payout submission throughput against the sandbox (zero latency), with its baseline in the same run.

Baseline: the same number of bare `RazorpayXClient.create_payout` calls, same concurrency, nothing
recorded. Ours: `submit_pending` on the same number of pending payouts, i.e. per payout a row-locked
claim, the attempt row committed before the call, and the answer, state and attempt committed after.
The difference per payout is our bookkeeping overhead.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import sqlalchemy as sa

from bench.common import report, sandbox_server, scratch_database
from domain.payouts.gateway import PayoutRequest, VpaDestination
from domain.payouts.submission import SubmitOptions, submit_pending
from domain.platform.database import create_engine
from gateways.http import HttpOptions
from gateways.razorpayx.client import RazorpayXClient

PAYOUTS = 600
CONCURRENCY = 4


def _seed(engine: sa.Engine, count: int, prefix: str) -> None:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """
                INSERT INTO users (user_id, role, name, email, payout_destination)
                SELECT :prefix || 'usr_' || n, 'seller', 'Seller ' || n, 'seller@example.in',
                       jsonb_build_object('type', 'vpa', 'vpa', 'seller' || n || '@okaxis')
                FROM generate_series(1, :count) n;
                INSERT INTO payouts (payout_id, payee_type, payee_id, amount_paise, batch_date, destination)
                SELECT 'pay_' || :prefix || lpad(n::text, 12, '0'), 'seller', :prefix || 'usr_' || n, 10000 + n,
                       DATE '2026-11-10', jsonb_build_object('type', 'vpa', 'vpa', 'seller' || n || '@okaxis')
                FROM generate_series(1, :count) n;
                """
            ),
            {"count": count, "prefix": prefix},
        )


def main() -> None:
    with scratch_database("payouts") as (url, settings), sandbox_server(url, settings) as (settings, _):
        client = RazorpayXClient.from_settings(settings, options=HttpOptions(pool_size=CONCURRENCY * 2))

        def bare(n: int) -> None:
            request = PayoutRequest(f"bare_{n:08d}", 10_000 + n, VpaDestination(f"bare{n}@okaxis"), "Bare", "b")
            client.create_payout(f"bare-{n}", request)

        for n in range(20):  # warm up connections and the sandbox
            bare(1_000_000 + n)
        started = time.perf_counter()
        with ThreadPoolExecutor(CONCURRENCY) as pool:
            list(pool.map(bare, range(PAYOUTS)))
        baseline = time.perf_counter() - started

        engine = create_engine(url, pool_size=2 * CONCURRENCY + 1)
        _seed(engine, PAYOUTS, "b")
        summary = submit_pending(
            engine,
            client,
            SubmitOptions(concurrency=CONCURRENCY, requests_per_second=1_000_000.0, max_attempts=5),
        )
        ours = summary.elapsed_s
        assert summary.outcomes["submitted"] == PAYOUTS, summary.as_dict()
        engine.dispose()
        client.close()
    print(f"{PAYOUTS} payouts, concurrency {CONCURRENCY}, sandbox latency 0")
    print(f"baseline (bare create_payout): {PAYOUTS / baseline:,.0f} payouts/s")
    print(f"ours (submit_pending):         {PAYOUTS / ours:,.0f} payouts/s")
    overhead_ms = (ours - baseline) / PAYOUTS * 1000
    print(
        f"overhead per payout: {overhead_ms:.2f} ms wall, {overhead_ms * CONCURRENCY:.2f} ms per worker "
        "(claim, attempt row committed before the call, answer committed after)"
    )
    report("submit 600 payouts", ours, baseline)


if __name__ == "__main__":
    main()
