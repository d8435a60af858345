"""Nightly settlement at scale: two nights of 1M paid, delivered orders each, one on top of the other.

In the same run and on the same data it times, for each night:
- the baseline: a raw `INSERT ... SELECT` of the night's fee lines into a keyed, logged table plus a
  `GROUP BY seller`;
- the floor the subledger sets: the night's capture rows and settlement rows alone, written into
  tables indexed like ours (DESIGN.md writes both facts per order, nothing else);
- the whole `nightly_settlement` job (captures, settlements, bounties, the ledger close and its
  control totals, Great Expectations checks, payouts, statements, analytics);
and prints each step, the job/baseline ratio, night 2 / night 1 (a night must cost the night's
work, not the history), Dagster's own share (run wall time less the steps), and the rows written
per order. The payments arrive confirmed, as the confirmation sensor leaves them during the day;
its throughput is measured by `bench.confirmations`, run at the end. The nightly run takes the
day's settlement report from a sandbox that made none of these payments, so, like the sellers
without a payout destination, nothing is paid out (payouts are measured by `bench.payouts`).
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import tempfile
import time
from typing import Any

import sqlalchemy as sa

from bench import confirmations
from bench.common import report, sandbox_server, scratch_database, timed
from domain.platform.clock import Day
from domain.platform.database import create_engine

ORDERS = int(os.environ.get("BENCH_SETTLE_ORDERS", "1000000"))
SELLERS = max(1, ORDERS // 100)
BUYERS = max(2, ORDERS // 10)
NIGHTS = (dt.date(2026, 11, 20), dt.date(2026, 11, 21))

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
FROM orders o WHERE o.status IN ('paid', 'delivered') AND o.paid_at >= :day_start AND o.paid_at < :day_end
"""
BASELINE_GROUP = "SELECT seller_id, sum(seller_net_paise) FROM bench_fee_lines GROUP BY seller_id"

# The two facts per order the subledger keeps, written alone into tables indexed like ours.
FLOOR_TABLES = """
CREATE TABLE floor_captures (LIKE captures INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING CONSTRAINTS);
CREATE TABLE floor_settlements (LIKE settlements INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING CONSTRAINTS);
"""
FLOOR_STEPS = {
    "floor: capture rows": """
        INSERT INTO floor_captures (order_id, capture_date, seller_id, paid_at, gross_paise, platform_fee_paise,
                                    gateway_fee_paise, seller_net_paise, fee_schedule_id, entry_id)
        SELECT order_id, :day, seller_id, o.paid_at, gross_paise, platform_fee_paise, gateway_fee_paise,
               seller_net_paise, 1, 1
        FROM bench_fee_lines JOIN orders o USING (order_id, seller_id)
    """,
    "floor: settlement rows": """
        INSERT INTO floor_settlements (order_id, settlement_date, seller_id, payee_item_key)
        SELECT order_id, :day, seller_id, 'settlement:' || :day || ':' || seller_id FROM floor_captures
        WHERE capture_date = :day
    """,
}
ROWS_WRITTEN = """
SELECT (SELECT count(*) FROM captures WHERE capture_date = :day) AS captures,
       (SELECT count(*) FROM settlements WHERE settlement_date = :day) AS settlements,
       (SELECT count(*) FROM ledger_lines l WHERE l.entry_id IN
            (SELECT DISTINCT entry_id FROM captures WHERE capture_date = :day)) AS capture_lines,
       (SELECT count(*) FROM settlement_groups WHERE settlement_date = :day) AS settlement_groups,
       (SELECT count(*) FROM payee_items WHERE item_date = :day) AS payee_items,
       (SELECT count(*) FROM notifications) AS outbox_rows,
       (SELECT count(*) FROM orders WHERE updated_at > created_at) AS orders_updated
"""


def _copy(engine: sa.Engine, table: str, columns: str, rows: io.StringIO) -> None:
    rows.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)", rows)
        raw.commit()
    finally:
        raw.close()


def generate_users(engine: sa.Engine) -> None:
    users = io.StringIO()
    for i in range(SELLERS):
        users.write(f"sel_{i:08d},seller,Seller {i},s{i}@example.com\n")
    for i in range(BUYERS):
        users.write(f"buy_{i:08d},buyer,Buyer {i},b{i}@example.com\n")
    _copy(engine, "users", "user_id, role, name, email", users)


def generate_night(engine: sa.Engine, night: int, day: dt.date) -> None:
    """ORDERS orders paid at 10:00 and delivered at 18:00 IST on `day`, each confirmed by the sensor
    30 s after payment, created and last updated when paid (no later change)."""
    paid = f"{day.isoformat()} 10:00:00+05:30"
    delivered = f"{day.isoformat()} 18:00:00+05:30"
    confirmed = f"{day.isoformat()} 10:00:30+05:30"
    orders, confirmations_ = io.StringIO(), io.StringIO()
    for i in range(night * ORDERS, (night + 1) * ORDERS):
        order_id = f"ord_{i:010d}"
        amount = 10_000 + (i * 7919) % 990_000
        orders.write(
            f"{order_id},buy_{i % BUYERS:08d},sel_{i % SELLERS:08d},lst_{i % 5000},{amount},delivered,"
            f"{paid},{delivered},{paid},{paid}\n"
        )
        confirmations_.write(f"{order_id},true,COMPLETED,{amount},confirmed,{confirmed},{confirmed}\n")
    _copy(
        engine,
        "orders",
        "order_id, buyer_id, seller_id, listing_id, amount_paise, status, paid_at, delivered_at, created_at, "
        "updated_at",
        orders,
    )
    _copy(
        engine,
        "payment_confirmations",
        "order_id, confirmed, gateway_state, gateway_amount_paise, reason, checked_at, confirmed_at",
        confirmations_,
    )
    with engine.begin() as conn:
        conn.execute(sa.text("ANALYZE"))


def _statement(engine: sa.Engine, times: dict[str, float], name: str, sql: str, params: dict[str, Any]) -> None:
    with timed(times, name), engine.begin() as conn:
        result = conn.execute(sa.text(sql), params)
        if result.returns_rows:
            result.all()


def run_night(engine: sa.Engine, instance: Any, day: dt.date) -> dict[str, Any]:
    from pipelines.definitions import defs

    params = Day.of(day).params
    times: dict[str, float] = {}
    with engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE bench_fee_lines"))  # the baseline holds the night's lines only
        conn.execute(sa.text("CHECKPOINT"))
    _statement(engine, times, "baseline: INSERT ... SELECT fees", BASELINE, params)
    _statement(engine, times, "baseline: GROUP BY seller", BASELINE_GROUP, params)
    for name, sql in FLOOR_STEPS.items():
        _statement(engine, times, name, sql, params)
    with engine.begin() as conn:
        conn.execute(sa.text("CHECKPOINT"))
    started = time.perf_counter()
    result = defs.resolve_job_def("nightly_settlement").execute_in_process(
        partition_key=day.isoformat(), instance=instance, raise_on_error=False
    )
    times["nightly_settlement job"] = time.perf_counter() - started
    steps = {
        event.step_key: event.event_specific_data.duration_ms / 1000
        for event in result.all_events
        if event.event_type_value == "STEP_SUCCESS"
    }
    with engine.connect() as conn:
        rows = dict(conn.execute(sa.text(ROWS_WRITTEN), params).one()._mapping)
    return {"times": times, "steps": steps, "success": result.success, "rows": rows}


def _print_night(number: int, day: dt.date, night: dict[str, Any]) -> tuple[float, float]:
    times, steps = night["times"], night["steps"]
    print(f"\n--- night {number} ({day}): {ORDERS} orders on top of {ORDERS * (number - 1)} ---")
    for name, seconds in times.items():
        print(f"{name:40s} {seconds:8.2f} s")
    for step, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"  step {step:54s} {seconds:8.2f} s")
    baseline = times["baseline: INSERT ... SELECT fees"] + times["baseline: GROUP BY seller"]
    floor = sum(times[name] for name in FLOOR_STEPS)
    job = times["nightly_settlement job"]
    overhead = job - sum(steps.values())
    report(f"night {number}: nightly job vs raw SQL baseline", job, baseline)
    print(f"night {number}: the subledger's floor (capture and settlement rows alone) {floor:.2f} s = "
          f"{floor / baseline:.2f}x the baseline; the job is {job / floor:.2f}x that floor")  # fmt: skip
    print(f"night {number}: Dagster overhead (run wall time less steps) {overhead:.2f} s = {100 * overhead / job:.1f}%")
    rows = night["rows"]
    per_order = {name: round(value / ORDERS, 4) for name, value in rows.items()}
    print(f"night {number}: rows written {rows}; per order {per_order}")
    return job, baseline


def main() -> None:
    import dagster as dg

    from pipelines.instance import resource_environment

    with scratch_database("settle") as (url, settings), sandbox_server(url, settings) as (settings, _):
        engine = create_engine(url)
        generation: dict[str, float] = {}
        with timed(generation, "generate users (COPY)"):
            generate_users(engine)
        with engine.begin() as conn:
            conn.execute(sa.text(BASELINE_TABLE))
            conn.execute(sa.text(FLOOR_TABLES))
        os.environ["DATABASE_URL"] = url
        os.environ.update(resource_environment(settings))
        nights = []
        with tempfile.TemporaryDirectory() as home, dg.DagsterInstance.ephemeral(tempdir=home) as instance:
            for number, day in enumerate(NIGHTS):
                with timed(generation, f"generate night {number + 1} (COPY)"):
                    generate_night(engine, number, day)
                nights.append(run_night(engine, instance, day))
        engine.dispose()
    for name, seconds in generation.items():
        print(f"{name:40s} {seconds:8.2f} s")
    figures = [_print_night(n + 1, day, night) for n, (day, night) in enumerate(zip(NIGHTS, nights, strict=True))]
    (first, _), (second, _) = figures
    print(f"\nnight 2 / night 1: {second / first:.2f} (the second night runs on twice the history)")
    confirmations.main()
    if not all(night["success"] for night in nights) or any(n["rows"]["captures"] != ORDERS for n in nights):
        sys.exit(1)


if __name__ == "__main__":
    main()
