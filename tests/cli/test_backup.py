"""Backup and restore: the demo's day backed up with `settle backup`, restored with `settle restore` into
a fresh database, and compared with the original table by table and account by account (queried
here directly, not through the manifest code); the refusals; a backup taken while rows are being
written; the scheduled `backup` job and its retention."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from cli.main import main
from domain.backups.backup import take_backup
from domain.backups.manifest import manifest_path, sha256_of
from domain.backups.restore import restore
from domain.platform.clock import IST
from domain.platform.database import create_engine
from domain.platform.migrations import head_revision, upgrade
from pipelines.definitions import defs
from tests import factories
from tests.cli.conftest import DemoDay


@dataclass(frozen=True)
class DemoBackup:
    url: str
    dump: Path
    output: str


@pytest.fixture(scope="module")
def demo_backup(demo_day: DemoDay, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoBackup]:
    """The session's `settle demo` day (payments, refunds, payouts, a clawback, reconciliation,
    notifications), then `settle backup` of its database."""
    assert demo_day.exit_code == 0, demo_day.output
    home = tmp_path_factory.mktemp("backup-demo")
    url = demo_day.url
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DATABASE_URL", url)
        patch.setenv("LOG_FORMAT", "console")
        dump = home / "demo.dump"
        backup = CliRunner().invoke(main, ["backup", str(dump)])
        assert backup.exit_code == 0, backup.output
    yield DemoBackup(url, dump, backup.output)


def invoke_restore(dump: Path, target: str) -> Result:
    return CliRunner().invoke(main, ["restore", str(dump), "--database-url", target])


def query(url: str, sql: str) -> list[Any]:
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sa.text(sql)).all())
    finally:
        engine.dispose()


BASE_TABLES = sa.text(
    "SELECT table_schema, table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
    "AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
)


def row_counts(url: str) -> dict[str, int]:
    """Every base table's exact count(*), from information_schema (independent of the backup code)."""
    engine = create_engine(url, poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as conn:
            tables = conn.execute(BASE_TABLES).all()
            return {
                f"{s}.{t}": conn.execute(sa.text(f'SELECT count(*) FROM "{s}"."{t}"')).scalar_one() for s, t in tables
            }
    finally:
        engine.dispose()


def account_balances(url: str) -> dict[str, int]:
    return dict(
        query(
            url,
            "SELECT a.account_id, coalesce(sum(l.amount_paise), 0) FROM ledger_accounts a "
            "LEFT JOIN ledger_lines l USING (account_id) GROUP BY a.account_id",
        )
    )


def sequences(url: str) -> dict[str, int | None]:
    return dict(query(url, "SELECT schemaname || '.' || sequencename, last_value FROM pg_sequences"))


def table_names(url: str) -> list[str]:
    return [name for (name,) in query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]


def copy_backup(demo: DemoBackup, directory: Path) -> Path:
    dump = directory / demo.dump.name
    shutil.copy(demo.dump, dump)
    shutil.copy(manifest_path(demo.dump), manifest_path(dump))
    return dump


def test_the_demo_day_restores_identically(demo_backup: DemoBackup, make_database) -> None:  # type: ignore[no-untyped-def]
    target: str = make_database("restored")
    result = invoke_restore(demo_backup.dump, target)
    assert result.exit_code == 0, result.output

    source, restored = row_counts(demo_backup.url), row_counts(target)
    assert restored == source
    assert {name.split(".")[0] for name in source} == {"public", "analytics"}
    assert source["public.orders"] == 61  # 60 simulated orders and the one cancelled, then paid anyway
    assert (
        source["public.payouts"] > 0 and source["public.order_refunds"] > 0 and source["analytics.daily_revenue"] == 1
    )
    balances = account_balances(demo_backup.url)
    assert account_balances(target) == balances
    assert sum(balances.values()) == 0 and len(balances) == 20  # the whole ledger sums to zero
    assert any(account.startswith("seller_payable:") and paise < 0 for account, paise in balances.items())  # owed
    assert sequences(target) == sequences(demo_backup.url)  # the restored system goes on numbering where it was
    [(analyst_reads_analytics, analyst_reads_orders)] = query(
        target,
        "SELECT has_table_privilege('analyst', 'analytics.daily_revenue', 'SELECT'), "
        "has_table_privilege('analyst', 'public.orders', 'SELECT')",
    )
    assert (analyst_reads_analytics, analyst_reads_orders) == (True, False)

    manifest = json.loads(manifest_path(demo_backup.dump).read_text())
    assert manifest["tables"] == source
    head = head_revision(target)
    assert manifest["migration_head"] == query(target, "SELECT version_num FROM alembic_version")[0][0] == head
    assert manifest["sha256"] == sha256_of(demo_backup.dump)
    assert manifest["dump_bytes"] == demo_backup.dump.stat().st_size
    totals = manifest["totals"]
    by_type: dict[str, int] = {}
    for account, paise in balances.items():
        by_type[account.split(":")[0]] = by_type.get(account.split(":")[0], 0) + paise
    assert totals["balance_by_account_type_paise"] == by_type
    [(entries, lines, debits, credits)] = query(
        target,
        "SELECT (SELECT count(*) FROM journal_entries), count(*), sum(amount_paise) FILTER (WHERE amount_paise > 0), "
        "-sum(amount_paise) FILTER (WHERE amount_paise < 0) FROM ledger_lines",
    )
    assert (totals["journal_entries"], totals["ledger_lines"]) == (entries, lines)
    assert totals["ledger_debits_paise"] == totals["ledger_credits_paise"] == debits == credits
    assert totals["ledger_accounts"] == len(balances)
    payouts = query(target, "SELECT status, count(*), sum(amount_paise) FROM payouts GROUP BY status")
    assert totals["payouts_by_status"] == {s: {"count": n, "amount_paise": p} for s, n, p in payouts}

    rows = sum(source.values())
    assert f"tables compared:   {len(source)}, {rows:,} rows in the backup, {rows:,} restored" in result.output
    assert f"accounts compared: {len(balances):,} ledger account balances" in result.output
    assert "every figure equal" in result.output and "DIFFERS" not in result.output
    assert f"tables:    {len(source)} tables, {rows:,} rows" in demo_backup.output


def test_a_tampered_file_is_refused(demo_backup: DemoBackup, make_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dump = copy_backup(demo_backup, tmp_path)
    content = bytearray(dump.read_bytes())
    content[len(content) // 2] ^= 0x01
    dump.write_bytes(bytes(content))
    target: str = make_database("tampered")
    result = invoke_restore(dump, target)
    assert result.exit_code == 1
    assert "restore refused, nothing changed" in result.output and "its manifest says" in result.output
    assert "SHA-256 " + sha256_of(dump) in result.output
    assert table_names(target) == []


def test_a_backup_of_another_migration_head_is_refused(demo_backup: DemoBackup, make_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dump = copy_backup(demo_backup, tmp_path)
    manifest = json.loads(manifest_path(dump).read_text())
    manifest_path(dump).write_text(json.dumps({**manifest, "migration_head": "0011"}))
    target: str = make_database("old_head")
    result = invoke_restore(dump, target)
    assert result.exit_code == 1
    refusal = "restore refused, nothing changed: the backup is at migration 0011 and this code's head is "
    assert refusal + str(head_revision(target)) in result.output
    assert table_names(target) == []


def test_a_database_with_tables_is_refused(demo_backup: DemoBackup, database_url: str) -> None:
    before = row_counts(database_url)
    result = invoke_restore(demo_backup.dump, database_url)
    assert result.exit_code == 1
    assert re.search(r"database settle_test_\w+ is not empty \(analytics\.daily_revenue, .* more\)", result.output)
    assert row_counts(database_url) == before


def test_a_dump_without_its_manifest_is_refused(demo_backup: DemoBackup, make_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dump = tmp_path / "alone.dump"
    shutil.copy(demo_backup.dump, dump)
    target: str = make_database("alone")
    result = invoke_restore(dump, target)
    assert result.exit_code == 1
    assert f"restore refused, nothing changed: no manifest next to the dump: {dump}.manifest.json is missing" in (
        result.output
    )
    assert table_names(target) == []


def test_a_restore_that_fails_midway_leaves_nothing(demo_backup: DemoBackup, make_database) -> None:  # type: ignore[no-untyped-def]
    """A function the emptiness check does not look for makes pg_restore stop at its CREATE FUNCTION,
    after the tables were created: one transaction, so none of them remains."""
    target: str = make_database("conflict")
    engine = create_engine(target, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.execute(
            sa.text("CREATE FUNCTION bps_of(amount_paise bigint, bps integer) RETURNS bigint LANGUAGE sql RETURN 0")
        )
    engine.dispose()
    result = invoke_restore(demo_backup.dump, target)
    assert result.exit_code == 1
    assert "restore failed: pg_restore failed (exit 1)" in result.output
    assert 'function "bps_of" already exists with same argument types' in result.output
    assert table_names(target) == []


def test_a_restore_that_differs_from_its_manifest_fails(demo_backup: DemoBackup, make_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    dump = copy_backup(demo_backup, tmp_path)
    manifest = json.loads(manifest_path(dump).read_text())
    manifest["tables"]["public.orders"] = 60
    manifest["totals"]["balance_by_account_type_paise"]["bank"] += 1
    manifest_path(dump).write_text(json.dumps(manifest))
    result = invoke_restore(dump, make_database("differs"))
    assert result.exit_code == 1
    bank = manifest["totals"]["balance_by_account_type_paise"]["bank"]
    assert "  DIFFERS: table public.orders: 60 rows in the backup, 61 restored\n" in result.output
    assert (
        f"  DIFFERS: balance_by_account_type_paise.bank: {bank} in the backup, {bank - 1} restored\n" in result.output
    )
    assert "the restored database differs from the backup in 2 figures" in result.output
    assert "every figure equal" not in result.output


def test_a_backup_taken_while_writing_is_one_snapshot(make_database, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Users are inserted, one commit each, all through the backup: the figures read before pg_dump
    starts and the dump itself must still agree, or the restore's verification would find the rows
    committed in between."""
    url: str = make_database("busy")
    upgrade(url)
    engine = create_engine(url)
    written, stop = [0], threading.Event()

    def write() -> None:
        while not stop.is_set():
            factories.user(engine, "buyer")
            written[0] += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while written[0] < 20:
            time.sleep(0.01)
        during = written[0]
        manifest = take_backup(url, tmp_path / "busy.dump", now=dt.datetime.now(IST))
        during = written[0] - during
    finally:
        stop.set()
        writer.join()
        engine.dispose()
    assert during >= 5, "the writer must commit while the backup runs"
    backed_up = manifest.figures.tables["public.users"]
    assert 20 <= backed_up < written[0] == row_counts(url)["public.users"]

    target: str = make_database("busy_restored")
    report = restore(target, tmp_path / "busy.dump")
    assert report.differences == []
    assert row_counts(target)["public.users"] == backed_up


def _fake_backup(directory: Path, name: str) -> None:
    (directory / name).write_bytes(b"an old backup")
    manifest_path(directory / name).write_text("{}")


def test_the_backup_job_writes_a_backup_and_keeps_the_newest(  # type: ignore[no-untyped-def]
    database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    directory = tmp_path / "backups"
    directory.mkdir()
    for day in ("20200101", "20200102", "20200103"):
        _fake_backup(directory, f"settlement-{day}T023000IST.dump")
    (directory / "notes.txt").write_text("kept: not a scheduled backup")
    (directory / "before-upgrade.dump").write_bytes(b"kept: taken by hand")
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BACKUP_DIR", str(directory))
    monkeypatch.setenv("BACKUP_RETENTION_COUNT", "3")
    job = defs.resolve_job_def("backup")
    schedule = defs.resolve_schedule_def("backup_0230_ist")
    assert (schedule.cron_schedule, schedule.execution_timezone, schedule.job_name) == (
        "30 2 * * *",
        "Asia/Kolkata",
        "backup",
    )

    with dg.DagsterInstance.ephemeral() as instance:
        first = job.execute_in_process(instance=instance)  # BACKUP_DIR, BACKUP_RETENTION_COUNT
        assert first.success
        new = Path(first.output_for_node("backup_op"))
        assert re.fullmatch(r"settlement-\d{8}T\d{6}IST\.dump", new.name) and new.parent == directory
        left = ["notes.txt", "before-upgrade.dump", "settlement-20200102T023000IST.dump",
                "settlement-20200103T023000IST.dump", new.name]  # fmt: skip
        assert sorted(p.name for p in directory.iterdir()) == sorted(left + [f"{n}.manifest.json" for n in left[2:]])

        [output] = [e for e in first.all_node_events if e.event_type == dg.DagsterEventType.STEP_OUTPUT]
        metadata = output.step_output_data.metadata
        manifest = json.loads(manifest_path(new).read_text())
        assert metadata["sha256"].value == sha256_of(new) == manifest["sha256"]
        assert metadata["size_bytes"].value == new.stat().st_size
        assert metadata["path"].value == str(new)
        assert {r.data["table"]: r.data["rows"] for r in metadata["row_counts"].value.records} == manifest["tables"]
        assert metadata["pruned"].value == ["settlement-20200101T023000IST.dump"]

        time.sleep(1.1)  # scheduled backups are named to the second
        config = {"ops": {"backup_op": {"config": {"directory": str(directory), "keep": 2}}}}
        second = job.execute_in_process(run_config=config, instance=instance)
        assert second.success
        newer = Path(second.output_for_node("backup_op"))
    left = ["notes.txt", "before-upgrade.dump", new.name, newer.name]
    assert sorted(p.name for p in directory.iterdir()) == sorted(left + [f"{n}.manifest.json" for n in left[2:]])
