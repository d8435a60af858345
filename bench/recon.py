"""Reconciliation at scale: 1M captures of one day against a 1M-row PhonePe settlement report with
anomalies planted at known rates.

In the same run and on the same data it times:
- the baseline: COPY of the report into a plain table plus one raw FULL OUTER JOIN on the
  reference against the day's captures;
- the floor reconciliation sets: the report's rows written into a table keyed and indexed like
  `gateway_report_rows` (COPY), and one classified item per row written into a table like
  `recon_items` (the full outer join's result INSERTed), nothing else;
- ours: the file imported as finance imports it (COPY into staging, checked and converted in SQL,
  refused whole if malformed, stored with its hash), the report's Great Expectations suite, then
  the day reconciled (classification, exceptions, the statement), each SQL step timed as the
  workflow runs it;
and prints each step, ours/baseline, the floor/baseline and ours/floor, and the class counts
against the planted ones: every planted anomaly must land in its class, and no other item may be a
break.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bench.common import report, scratch_database, timed
from domain.money import bps_of
from domain.platform.clock import IST
from domain.platform.database import create_engine
from domain.platform.sql import statement
from domain.reconciliation import workflow
from domain.reconciliation.gateway import SettlementReport
from gateways.phonepe.settlement_report import DATE_FORMAT, DATETIME_FORMAT, REPORT_COLUMNS, parse_settlement_report
from gateways.sandbox.report import rupees

ORDERS = int(os.environ.get("BENCH_RECON_ORDERS", "1000000"))
DAY = dt.date(2026, 11, 20)
EVERY = 1000  # one payment in EVERY of each payment anomaly
REFUNDS = ORDERS // 100
REFUND_EVERY = 100  # one refund in REFUND_EVERY reported with 1 rupee more
LATE = ORDERS // 1000  # paid the day before, first reported today
STRAYS = max(1, ORDERS // 10_000)  # paid after the order was cancelled
UNKNOWN = ORDERS // 1000  # reported, never made
SELLERS = max(1, ORDERS // 100)
BUYERS = max(2, ORDERS // 10)
# Payment index modulo EVERY that plants each anomaly; the rest are reported as booked.
AMOUNT_DIFF, FEE_DIFF, MISSING, DUPLICATE = 1, 2, 3, 4
UTR = "SBIN5C0FFEE12345"

PLANTED = {
    "matched": ORDERS - 3 * (ORDERS // EVERY) + REFUNDS - REFUNDS // REFUND_EVERY,
    "amount_mismatch": ORDERS // EVERY,
    "fee_mismatch": ORDERS // EVERY,
    "missing_in_report": ORDERS // EVERY,
    "duplicate": ORDERS // EVERY,
    "refund_mismatch": REFUNDS // REFUND_EVERY,
    "late_settlement": LATE,
    "paid_after_cancellation": STRAYS,
    "missing_in_books": UNKNOWN,
}
BREAKS = ("amount_mismatch", "fee_mismatch", "missing_in_report", "duplicate", "refund_mismatch",
          "paid_after_cancellation", "missing_in_books")  # fmt: skip

BASELINE_TABLE = """
CREATE TABLE bench_report (
    payment_type text, merchant_reference_id text, phonepe_reference_id text, payer text, instrument text,
    created_at timestamp, amount numeric, fee numeric, transaction_at timestamp, settlement_date date,
    bank_reference_no text, igst numeric, cgst numeric, sgst numeric
)
"""
BASELINE_JOIN = """
SELECT CASE WHEN r.merchant_reference_id IS NULL THEN 'missing_in_report'
            WHEN c.order_id IS NULL THEN 'missing_in_books'
            WHEN c.gross_paise <> round(r.amount * 100) THEN 'amount_mismatch'
            WHEN c.gateway_fee_paise <> round(-r.fee * 100) THEN 'fee_mismatch'
            ELSE 'matched' END AS class, count(*)
FROM bench_report r
FULL OUTER JOIN (SELECT * FROM captures WHERE capture_date = :day) c ON c.order_id = r.merchant_reference_id
GROUP BY 1
"""

# What reconciliation must write, alone: the typed rows and one classified item per row.
FLOOR_TABLES = """
CREATE TABLE floor_report_rows (LIKE gateway_report_rows INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING CONSTRAINTS);
CREATE TABLE floor_items (LIKE recon_items INCLUDING DEFAULTS INCLUDING INDEXES INCLUDING CONSTRAINTS);
"""
FLOOR_ROWS = """
COPY (SELECT 1, row_number() OVER () + 1, payment_type, merchant_reference_id, phonepe_reference_id, payer,
             instrument, created_at AT TIME ZONE 'Asia/Kolkata', transaction_at AT TIME ZONE 'Asia/Kolkata',
             settlement_date, bank_reference_no, round(amount * 100), round(fee * 100), round(igst * 100),
             round(cgst * 100), round(sgst * 100), round((amount + fee + igst + cgst + sgst) * 100)
      FROM bench_report) TO STDOUT WITH (FORMAT csv)
"""
FLOOR_ITEMS = """
INSERT INTO floor_items (report_id, item_no, report_date, class, payment_type, reference_id, line, bank_reference_no,
                         expected_amount_paise, reported_amount_paise, expected_charges_paise,
                         reported_charges_paise, expected_paise, reported_paise)
SELECT 1, row_number() OVER (), :day,
       CASE WHEN r.line IS NULL THEN 'missing_in_report'
            WHEN c.order_id IS NULL THEN 'missing_in_books'
            WHEN c.gross_paise <> r.amount_paise THEN 'amount_mismatch'
            WHEN c.gateway_fee_paise <> -r.fee_paise THEN 'fee_mismatch'
            ELSE 'matched' END,
       coalesce(r.payment_type, 'PAYMENT'), coalesce(r.merchant_reference_id, c.order_id), r.line,
       r.bank_reference_no, coalesce(c.gross_paise, 0), coalesce(r.amount_paise, 0),
       coalesce(c.gateway_fee_paise, 0), coalesce(-(r.fee_paise + r.igst_paise + r.cgst_paise + r.sgst_paise), 0),
       coalesce(c.gross_paise - c.gateway_fee_paise, 0), coalesce(r.settled_paise, 0)
FROM floor_report_rows r
FULL OUTER JOIN (SELECT * FROM captures WHERE capture_date = :day) c ON c.order_id = r.merchant_reference_id
"""


def _copy(engine: sa.Engine, sql: str, rows: io.TextIOBase) -> None:
    rows.seek(0)
    raw = engine.raw_connection()
    try:
        with raw.cursor() as cursor:
            cursor.copy_expert(sql, rows)
        raw.commit()
    finally:
        raw.close()


def _order_id(i: int) -> str:
    return f"ord_{i:010d}"


def _gross(i: int) -> int:
    return 10_000 + (i * 7919) % 990_000


def _paid_at(day: dt.date, i: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=IST) + dt.timedelta(seconds=i % 86_400)


def generate_books(engine: sa.Engine) -> None:
    """The day's paid orders, the day before's late ones and the cancelled ones paid anyway, with
    their captures, the day's completed refunds and the stray payments, as the nightly jobs and
    the refund workers leave them."""
    users = io.StringIO()
    for i in range(SELLERS):
        users.write(f"sel_{i:08d},seller,Seller {i},s{i}@example.com\n")
    for i in range(BUYERS):
        users.write(f"buy_{i:08d},buyer,Buyer {i},b{i}@example.com\n")
    _copy(engine, "COPY users (user_id, role, name, email) FROM STDIN WITH (FORMAT csv)", users)
    orders = io.StringIO()
    yesterday = DAY - dt.timedelta(days=1)
    for i in range(ORDERS + LATE + STRAYS):
        day, status = (DAY, "paid") if i < ORDERS else (yesterday, "paid") if i < ORDERS + LATE else (DAY, "cancelled")
        paid = _paid_at(day, i).isoformat()
        cancelled = paid if status == "cancelled" else ""
        orders.write(f"{_order_id(i)},buy_{i % BUYERS:08d},sel_{i % SELLERS:08d},lst_{i % 5000},{_gross(i)},"
                     f"{status},{paid},{cancelled},{paid},{paid}\n")  # fmt: skip
    _copy(
        engine,
        "COPY orders (order_id, buyer_id, seller_id, listing_id, amount_paise, status, paid_at, cancelled_at, "
        "created_at, updated_at) FROM STDIN WITH (FORMAT csv)",
        orders,
    )
    refunds = io.StringIO()
    for j in range(REFUNDS):
        i = j * (ORDERS // REFUNDS)
        refunds.write(f"rfd_{j:032d},{_order_id(i)},order,sel_{i % SELLERS:08d},{DAY},{_refund(i)},0,{_refund(i)},1\n")
    _copy(
        engine,
        "COPY order_refunds (refund_id, order_id, kind, seller_id, completed_date, refund_paise, "
        "platform_fee_reversed_paise, seller_debit_paise, entry_id) FROM STDIN WITH (FORMAT csv)",
        refunds,
    )
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """
                INSERT INTO captures (order_id, capture_date, seller_id, paid_at, gross_paise, platform_fee_paise,
                                      gateway_fee_paise, seller_net_paise, fee_schedule_id, entry_id)
                SELECT o.order_id, (o.paid_at AT TIME ZONE 'Asia/Kolkata')::date, o.seller_id, o.paid_at,
                       o.amount_paise, bps_of(o.amount_paise, f.platform_fee_bps),
                       bps_of(o.amount_paise, f.gateway_fee_bps),
                       o.amount_paise - bps_of(o.amount_paise, f.platform_fee_bps)
                           - bps_of(o.amount_paise, f.gateway_fee_bps),
                       f.fee_schedule_id, 1
                FROM orders o CROSS JOIN fee_schedules f WHERE o.status = 'paid';
                INSERT INTO stray_payments (order_id, webhook_event_id, reported_amount_paise)
                SELECT order_id, 1, amount_paise FROM orders WHERE status = 'cancelled';
                """
            )
        )
        conn.execute(sa.text("ANALYZE"))


def _refund(i: int) -> int:
    return _gross(i) // 2


def generate_report(path: Path) -> None:
    """The day's report in PhonePe's format (as `gateways.sandbox.report` writes it), anomalies planted."""
    settlement_date = (DAY + dt.timedelta(days=1)).strftime(DATE_FORMAT)
    yesterday = DAY - dt.timedelta(days=1)

    def line(kind: str, ref: str, n: int, at: dt.datetime, amount: int, fee: int) -> str:
        gst = bps_of(fee, 1800)
        stamp = at.strftime(DATETIME_FORMAT)
        return (f"{kind},{ref},T{n:016d},buyer,UPI,{stamp},{rupees(amount)},{rupees(-fee)},{stamp},"
                f"{settlement_date},{UTR},{rupees(-gst)},0.00,0.00\n")  # fmt: skip

    with path.open("w") as out:
        out.write(",".join(REPORT_COLUMNS) + "\n")
        for i in range(ORDERS + LATE + STRAYS):
            anomaly = i % EVERY if i < ORDERS else None
            if anomaly == MISSING:
                continue
            at = _paid_at(yesterday if ORDERS <= i < ORDERS + LATE else DAY, i)
            amount = _gross(i) + (100 if anomaly == AMOUNT_DIFF else 0)
            fee = bps_of(amount, 150) + (100 if anomaly == FEE_DIFF else 0)
            row = line("PAYMENT", _order_id(i), i, at, amount, fee)
            out.write(row * (2 if anomaly == DUPLICATE else 1))
        for j in range(REFUNDS):
            i = j * (ORDERS // REFUNDS)
            amount = _refund(i) + (100 if j % REFUND_EVERY == 7 else 0)
            out.write(line("REFUND", f"rfd_{j:032d}", ORDERS * 2 + j, _paid_at(DAY, i), -amount, 0))
        for n in range(UNKNOWN):
            amount = 5_000 + n
            out.write(line("PAYMENT", f"UNKNOWN_{n}", ORDERS * 3 + n, _paid_at(DAY, n), amount, bps_of(amount, 150)))


class FileGateway:
    """The gateway port as `import_report` uses it: PhonePe's parser, timed (asked only for a file the
    set-based import refuses)."""

    def __init__(self) -> None:
        self.parse_s = 0.0

    def parse_settlement_report(self, content: bytes, report_date: dt.date) -> SettlementReport:
        started = time.perf_counter()
        parsed = parse_settlement_report(content, report_date=report_date)
        self.parse_s += time.perf_counter() - started
        return parsed


@contextmanager
def statement_times(engine: sa.Engine, times: dict[str, float]) -> Iterator[None]:
    """Time each reconciliation statement as the workflow executes it, named by its file."""
    names = {statement(f"reconciliation/{n}").text.split("\n", 1)[0]: n
             for n in ("stage_report", "staged_report_totals", "insert_staged_rows", "classify", "exceptions",
                       "clear_exceptions", "statement")}  # fmt: skip

    def before(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def after(conn: Any, cursor: Any, sql: str, params: Any, context: Any, many: bool) -> None:
        name = "  sql: " + names.get(sql.split("\n", 1)[0], "other statements")
        times[name] = times.get(name, 0.0) + time.perf_counter() - conn.info.pop("bench_started")

    sa.event.listen(engine, "before_cursor_execute", before)
    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        yield
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)
        sa.event.remove(engine, "after_cursor_execute", after)


def main() -> None:
    from assets import quality

    with tempfile.TemporaryDirectory(prefix="bench-recon-report-") as tmp, scratch_database("recon") as (url, settings):
        engine = create_engine(url)
        path = Path(tmp) / f"phonepe-settlement-{DAY}.csv"
        times: dict[str, float] = {}
        with timed(times, "generate books (COPY)"):
            generate_books(engine)
        with timed(times, "generate report file"):
            generate_report(path)
        with engine.begin() as conn:
            conn.execute(sa.text(BASELINE_TABLE))
            conn.execute(sa.text("CHECKPOINT"))
        with timed(times, "baseline: COPY report"), path.open() as content:
            _copy(engine, "COPY bench_report FROM STDIN WITH (FORMAT csv, HEADER)", content)
        with timed(times, "baseline: FULL OUTER JOIN"), engine.begin() as conn:
            baseline_classes = dict(conn.execute(sa.text(BASELINE_JOIN), {"day": DAY}).tuples().all())
        with engine.begin() as conn:
            conn.execute(sa.text(FLOOR_TABLES))
        typed = io.StringIO()
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor:
                cursor.copy_expert(FLOOR_ROWS, typed)
        finally:
            raw.close()
        with engine.begin() as conn:
            conn.execute(sa.text("CHECKPOINT"))
        with timed(times, "floor: COPY report rows (typed, keyed, indexed)"):
            _copy(engine, "COPY floor_report_rows FROM STDIN WITH (FORMAT csv)", typed)
        with timed(times, "floor: INSERT one classified item per row"), engine.begin() as conn:
            conn.execute(sa.text(FLOOR_ITEMS), {"day": DAY})
        with engine.begin() as conn:
            conn.execute(sa.text("CHECKPOINT"))
        gateway = FileGateway()
        steps: dict[str, float] = {}
        now = dt.datetime.combine(DAY + dt.timedelta(days=settings.recon_settlement_window_days + 1), dt.time(12),
                                  tzinfo=IST)  # fmt: skip
        with statement_times(engine, steps):
            with timed(times, "ours: import (COPY, check, store)"):
                stored = workflow.import_report(engine, gateway, path, DAY, received_by="bench")  # type: ignore[arg-type]
            if gateway.parse_s:
                steps["  parse (Python, the set-based import refused)"] = gateway.parse_s
            with timed(times, "ours: validate (Great Expectations suite)"):
                valid, _ = quality.validate(url, quality.report_suite(stored.report_id, DAY, settings), settings)
            with timed(times, "ours: reconcile (classify, exceptions, statement)"):
                result = workflow.reconcile_day(
                    engine, DAY, now=now, settlement_window_days=settings.recon_settlement_window_days
                )
        with engine.connect() as conn:
            exceptions = dict(
                conn.execute(
                    sa.text("SELECT class, count(*) FROM recon_exceptions WHERE report_date = :day GROUP BY class"),
                    {"day": DAY},
                )
                .tuples()
                .all()
            )
        engine.dispose()
    assert result is not None
    print(f"\n--- {ORDERS} captures on {DAY}, a report of {stored.rows} rows ---")
    for name, seconds in times.items():
        print(f"{name:52s} {seconds:8.2f} s")
    for name, seconds in sorted(steps.items(), key=lambda item: -item[1]):
        print(f"{name:52s} {seconds:8.2f} s")
    baseline = times["baseline: COPY report"] + times["baseline: FULL OUTER JOIN"]
    ours = sum(seconds for name, seconds in times.items() if name.startswith("ours: "))
    floor = sum(seconds for name, seconds in times.items() if name.startswith("floor: "))
    report("reconciliation vs COPY + FULL OUTER JOIN", ours, baseline)
    print(
        f"the floor (report rows and one item per row alone) {floor:.2f} s = {floor / baseline:.2f}x the "
        f"baseline; ours is {ours / floor:.2f}x that floor"
    )
    print(f"baseline's raw classes (no duplicates, refunds or history): {baseline_classes}")
    found = {line.klass: line.items for line in result.lines if line.items}
    print(f"{'class':28s} {'found':>9s} {'planted':>9s}")
    for klass in sorted(set(found) | set(PLANTED), key=lambda k: -PLANTED.get(k, 0)):
        print(f"{klass:28s} {found.get(klass, 0):9d} {PLANTED.get(klass, 0):9d}")
    print(f"exceptions opened {dict(sorted(exceptions.items()))}; residual {result.residual_paise} paise")
    planted_breaks = {k: PLANTED[k] for k in BREAKS}
    if not valid or found != PLANTED or exceptions != planted_breaks or result.residual_paise != 0:
        print(f"FAILED: suite passed {valid}, or the classes differ from the planted anomalies")
        sys.exit(1)


if __name__ == "__main__":
    main()
