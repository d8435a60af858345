"""Reconciliation as operations run it: the Dagster job over the sandbox (its report validated by Great
Expectations, its statement a blocking check), and finance's `settle recon import` of a file: a new
version, the same file twice, a malformed file refused whole with its line numbers."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from domain.platform.clock import Day
from pipelines.definitions import defs
from tests.scenarios.books import Books

RECON = [sys.executable, "-c", "from cli.main import main; main()", "recon"]


def _day_of_payments(books: Books, count: int) -> tuple[Day, list[str]]:
    now = dt.datetime.now(dt.UTC)
    day = Day.containing(now)
    buyer, seller = books.user("buyer"), books.user("seller")
    paid_at = max(now - dt.timedelta(minutes=5), day.start + dt.timedelta(seconds=1))
    orders = [books.paid_order(buyer, seller, 10_000, paid_at) for _ in range(count)]
    books.settle(day.date)
    return day, orders


def _run(books: Books, day: Day) -> tuple[Any, dict[str, bool]]:
    result = defs.resolve_job_def("reconciliation").execute_in_process(
        partition_key=day.date.isoformat(), instance=books.instance, raise_on_error=False
    )
    evaluations = [e.event_specific_data for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    checks = {evaluation.check_name: evaluation.passed for evaluation in evaluations}
    return result, checks


def _statement(result: Any) -> dict[str, Any]:
    [materialization] = [m for m in result.asset_materializations_for_node("recon_statement")]
    return {key: value.value for key, value in materialization.metadata.items()}


def test_the_job_validates_the_report_and_a_clean_day_balances(books: Books) -> None:
    day, _ = _day_of_payments(books, 3)
    result, checks = _run(books, day)
    assert result.success
    assert checks == {"settlement_report_expectations": True, "recon_balanced": True}
    statement = _statement(result)
    # 3 payments of 10_000: fee 150, GST 27 each, 9_823 settled each.
    assert (statement["report_total_paise"], statement["books_total_paise"], statement["residual_paise"]) == (
        29_469, 29_469, 0,
    )  # fmt: skip
    assert "| Matched | 3 | Rs 294.69 | Rs 294.69 | Rs 0.00 |  |" in statement["statement"]
    daily = books.rows(
        "SELECT class, items, difference_paise, residual_paise FROM analytics.recon_daily "
        "WHERE report_date = :d AND items > 0", d=day.date,
    )  # fmt: skip
    assert [tuple(row) for row in daily] == [("matched", 3, 0, 0)]


def test_an_open_break_blocks_the_day(books: Books) -> None:
    day, orders = _day_of_payments(books, 2)
    books.sandbox.configure(report_anomalies={"duplicate": [orders[0]]})
    result, checks = _run(books, day)
    assert checks == {"settlement_report_expectations": True, "recon_balanced": False}
    statement = _statement(result)
    assert (statement["difference_paise"], statement["residual_paise"], statement["new_exceptions"]) == (9_823, 0, 1)
    [failed] = books.rows("SELECT passed, details FROM check_results WHERE check_name = 'recon_balanced'")
    assert failed.passed is False and failed.details["open_breaks_above_threshold"] == 1


def _recon(books: Books, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ENVIRONMENT": "test",
        "DATABASE_URL": books.engine.url.render_as_string(hide_password=False),
        "DATA_DIR": str(tmp_path),
        "PHONEPE_BASE_URL": books.sandbox.settings.phonepe_base_url,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run([*RECON, *args], env=env, capture_output=True, text=True, timeout=120, check=False)


def test_finance_imports_a_file_once_as_a_new_version_and_a_malformed_one_changes_nothing(
    books: Books, tmp_path: Path
) -> None:
    day, orders = _day_of_payments(books, 2)
    downloaded = _recon(books, tmp_path, "run", "--date", day.date.isoformat())
    assert downloaded.returncode == 0, downloaded.stderr
    assert "report version 1, 2 rows" in downloaded.stdout

    books.sandbox.configure(report_anomalies={"missing": [orders[1]]})
    client = books.sandbox.phonepe_client()
    try:
        corrected = client.download_settlement_report(day.date)
    finally:
        client.close()
    report_file = tmp_path / "phonepe-report.csv"
    report_file.write_bytes(corrected)
    for _ in range(2):  # the second import is the first one again
        imported = _recon(books, tmp_path, "import", str(report_file), "--date", day.date.isoformat())
        assert imported.returncode == 0, imported.stderr
        assert "report version 2, 1 rows" in imported.stdout
    versions = books.rows("SELECT version, source, filename, row_count FROM gateway_reports ORDER BY version")
    assert [tuple(v) for v in versions] == [(1, "gateway", None, 2), (2, "file", "phonepe-report.csv", 1)]

    lines = corrected.decode().splitlines()
    broken = [lines[0], lines[1].replace("100.00", "100.001", 1), "PAYMENT,x"]
    bad_file = tmp_path / "broken.csv"
    bad_file.write_text("\n".join(broken) + "\n")
    before = books.snapshot()
    refused = _recon(books, tmp_path, "import", str(bad_file), "--date", day.date.isoformat())
    assert refused.returncode == 1
    assert "line 2: Amount is not a rupee amount" in refused.stderr and "line 3: expected 14 columns" in refused.stderr
    assert books.snapshot() == before
    assert books.one("SELECT count(*) AS n FROM gateway_reports").n == 2


def test_finance_imports_a_file_through_the_dagster_job(books: Books, tmp_path: Path) -> None:
    day, orders = _day_of_payments(books, 2)  # the nightly run kept the day's report as version 1
    books.sandbox.configure(report_anomalies={"missing": [orders[1]]})  # finance's copy lacks one payment
    client = books.sandbox.phonepe_client()
    try:
        report_file = tmp_path / "report.csv"
        report_file.write_bytes(client.download_settlement_report(day.date))
    finally:
        client.close()
    config = {"path": str(report_file), "report_date": day.date.isoformat(), "actor": "asha@finance"}
    result = defs.resolve_job_def("import_settlement_report").execute_in_process(
        run_config={"ops": {"import_settlement_report_op": {"config": config}}}, instance=books.instance
    )
    assert result.success
    assert result.output_for_node("import_settlement_report_op")["residual_paise"] == 0
    kept = books.rows("SELECT version, source, filename, received_by, row_count FROM gateway_reports ORDER BY 1")
    assert [tuple(row) for row in kept] == [
        (1, "gateway", None, "reconciliation", 2),
        (2, "file", "report.csv", "asha@finance", 1),
    ]
    classes = books.rows(
        "SELECT class AS klass, reference_id FROM recon_items i JOIN gateway_reports g USING (report_id) "
        "WHERE g.version = 2 ORDER BY class"
    )
    assert [tuple(row) for row in classes] == [("matched", orders[0]), ("missing_in_report_pending", orders[1])]
