"""Nightly settlement at scale: 1M paid, delivered orders in one IST day.

In the same run and on the same data it times:
- the baseline: a raw `INSERT ... SELECT` of the fee lines into a keyed, logged table plus a
  `GROUP BY seller`;
- the floor that DESIGN.md itself sets: the per-order capture entries and their lines (§4) and the
  status change to `settled` (§5), written into tables indexed like ours but without triggers;
- the whole `nightly_settlement` job (captures, settlement lines, outbox rows, bounties, blocking
  Great Expectations checks, analytics);
and prints each step, the job/baseline ratio, the floor, and Dagster's own share of the job (run
wall time less the steps' time).

Payment confirmation is done through the day by its sensor (status API calls), so the orders arrive
here already confirmed; its throughput against the sandbox is `bench.confirmations`.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import tempfile
import time

import sqlalchemy as sa

from bench.common import report, scratch_database, timed
from domain.platform.database import create_engine

ORDERS = int(os.environ.get("BENCH_SETTLE_ORDERS", "1000000"))
SELLERS = max(1, ORDERS // 100)
BUYERS = max(2, ORDERS // 10)
DAY = dt.date(2026, 11, 20)

# The baseline writes the fee lines as a system of record must: a logged table keyed by order (an
# unlogged table is lost on a crash, an unkeyed one cannot be written idempotently).
BASELINE_TABLE = """
CREATE TABLE bench_fee_lines (
    order_id text PRIMARY KEY, seller_id text NOT NULL, gross_paise bigint NOT NULL,
    platform_fee_paise bigint NOT NULL, gateway_fee_paise bigint NOT NULL, seller_net_paise bigint NOT NULL
)
"""
BASELINE = """
INSERT INTO bench_fee_lines
SELECT o.order_id, o.seller_id, o.amount_paise,
       (o.amount_paise * 1000 + 5000) / 10000,
       (o.amount_paise * 150 + 5000) / 10000,
       o.amount_paise - (o.amount_paise * 1000 + 5000) / 10000 - (o.amount_paise * 150 + 5000) / 10000
FROM orders o WHERE o.status IN ('paid', 'delivered') AND o.paid_at < :day_end
"""
BASELINE_GROUP = "SELECT seller_id, sum(seller_net_paise) FROM bench_fee_lines GROUP BY seller_id"

# What DESIGN.md alone demands per order, measured as a floor: the capture entry (`capture:<order_id>`,
# §4) with its three lines, written into tables indexed like the ledger's but without its triggers,
# and the status change to `settled` (§5). No job that keeps those postings can run faster.
FLOOR_TABLES = """
CREATE TABLE floor_entries (LIKE journal_entries INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING CONSTRAINTS);
CREATE TABLE floor_lines (LIKE ledger_lines INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING CONSTRAINTS);
CREATE TABLE floor_orders (LIKE orders INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING CONSTRAINTS);
INSERT INTO floor_orders SELECT * FROM orders;
"""
FLOOR_STEPS = {
    "floor: 1M capture entries": """
        INSERT INTO floor_entries (idempotency_key, entry_type, description, occurred_at, reference_id)
        SELECT 'capture:' || order_id, 'payment_captured', 'payment captured', paid_at, order_id FROM orders
    """,
    "floor: their 3M ledger lines": """
        INSERT INTO floor_lines (entry_id, account_id, amount_paise)
        SELECT e.entry_id, line.account_id, line.amount_paise
        FROM floor_entries e JOIN bench_fee_lines f ON f.order_id = e.reference_id
        CROSS JOIN LATERAL (VALUES ('gateway_clearing', f.gross_paise - f.gateway_fee_paise),
                                   ('seller_payable:' || f.seller_id, -f.seller_net_paise),
                                   ('platform_revenue', -f.platform_fee_paise)) AS line (account_id, amount_paise)
    """,
    "floor: 1M orders marked settled": "UPDATE floor_orders SET status = 'settled', updated_at = now()",
}
FLOOR_DROP = "DROP TABLE floor_entries, floor_lines, floor_orders"


def _copy(engine: sa.Engine, table: str, columns: str, rows: io.StringIO) -> None:
    rows.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", rows)
        raw.commit()
    finally:
        raw.close()


def generate(engine: sa.Engine) -> None:
    users = io.StringIO()
    for i in range(SELLERS):
        users.write(f"sel_{i:08d},seller,Seller {i},s{i}@example.com\n")
    for i in range(BUYERS):
        users.write(f"buy_{i:08d},buyer,Buyer {i},b{i}@example.com\n")
    _copy(engine, "users", "user_id, role, name, email", users)
    paid = f"{DAY.isoformat()} 10:00:00+05:30"
    delivered = f"{DAY.isoformat()} 18:00:00+05:30"
    orders, confirmations = io.StringIO(), io.StringIO()
    for i in range(ORDERS):
        order_id = f"ord_{i:010d}"
        amount = 10_000 + (i * 7919) % 990_000
        orders.write(
            f"{order_id},buy_{i % BUYERS:08d},sel_{i % SELLERS:08d},lst_{i % 5000},{amount},delivered,"
            f"{paid},{delivered},{paid}\n"
        )
        confirmations.write(f"{order_id},true,COMPLETED,{amount},confirmed\n")
    _copy(
        engine,
        "orders",
        "order_id, buyer_id, seller_id, listing_id, amount_paise, status, paid_at, delivered_at, created_at",
        orders,
    )
    _copy(
        engine,
        "payment_confirmations",
        "order_id, confirmed, gateway_state, gateway_amount_paise, reason",
        confirmations,
    )
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))


def _measure_floor(engine: sa.Engine, times: dict[str, float]) -> float:
    with engine.begin() as conn:
        conn.execute(sa.text(FLOOR_TABLES))
        conn.execute(sa.text("CHECKPOINT"))
    for name, sql in FLOOR_STEPS.items():
        with timed(times, name), engine.begin() as conn:
            conn.execute(sa.text(sql))
    with engine.begin() as conn:
        conn.execute(sa.text(FLOOR_DROP))
        conn.execute(sa.text("CHECKPOINT"))
    return sum(times[name] for name in FLOOR_STEPS)


def main() -> None:
    import dagster as dg

    from pipelines.definitions import defs
    from pipelines.instance import resource_environment

    with scratch_database("settle") as (url, settings):
        engine = create_engine(url)
        times: dict[str, float] = {}
        with timed(times, "generate (COPY)"):
            generate(engine)
        day_end = dt.datetime.combine(DAY + dt.timedelta(days=1), dt.time(), dt.timezone(dt.timedelta(hours=5.5)))
        with engine.begin() as conn:
            conn.execute(sa.text(BASELINE_TABLE))
            conn.execute(sa.text("CHECKPOINT"))
        with timed(times, "baseline: INSERT ... SELECT fees"), engine.begin() as conn:
            conn.execute(sa.text(BASELINE), {"day_end": day_end})
        with timed(times, "baseline: GROUP BY seller"), engine.begin() as conn:
            conn.execute(sa.text(BASELINE_GROUP)).all()
        floor = _measure_floor(engine, times)
        os.environ["DATABASE_URL"] = url
        os.environ.update(resource_environment(settings))
        with tempfile.TemporaryDirectory() as home, dg.DagsterInstance.ephemeral(tempdir=home) as instance:
            started = time.perf_counter()
            result = defs.resolve_job_def("nightly_settlement").execute_in_process(
                partition_key=DAY.isoformat(), instance=instance, raise_on_error=False
            )
            times["nightly_settlement job"] = time.perf_counter() - started
            steps = {
                event.step_key: event.event_specific_data.duration_ms / 1000
                for event in result.all_events
                if event.event_type_value == "STEP_SUCCESS"
            }
        with engine.connect() as conn:
            lines, entries = conn.execute(
                sa.text("SELECT (SELECT count(*) FROM settlement_lines), (SELECT count(*) FROM journal_entries)")
            ).one()
        engine.dispose()
    baseline = times["baseline: INSERT ... SELECT fees"] + times["baseline: GROUP BY seller"]
    job = times["nightly_settlement job"]
    for name, seconds in times.items():
        print(f"{name:40s} {seconds:8.2f} s")
    for step, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"  step {step:48s} {seconds:8.2f} s")
    overhead = job - sum(steps.values())
    print(f"orders {ORDERS}, settlement lines {lines}, journal entries {entries}, job success {result.success}")
    report("nightly job vs raw SQL baseline", job, baseline)
    print(
        f"DESIGN floor (per-order capture entries and lines, status change) {floor:.2f} s = "
        f"{floor / baseline:.1f}x the baseline; the job is {job / floor:.1f}x that floor"
    )
    print(f"Dagster overhead (run wall time less steps): {overhead:.2f} s = {100 * overhead / job:.1f}% of the job")
    if not result.success or lines != ORDERS:
        sys.exit(1)


if __name__ == "__main__":
    main()
