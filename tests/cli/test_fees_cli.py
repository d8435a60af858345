"""`settle fees add|list|withdraw`, and `settle migrate` warning when the fee variables no longer match
the schedule in effect (they seed only the first one)."""

from __future__ import annotations

import datetime as dt

import pytest
from click.testing import CliRunner

from cli.main import main
from domain.platform.clock import ist_date


@pytest.fixture
def migrated(make_database, monkeypatch: pytest.MonkeyPatch, tmp_path) -> CliRunner:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_FORMAT", "console")
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("DATABASE_URL", make_database("fees_cli"))
    runner = CliRunner()
    first = runner.invoke(main, ["migrate"])
    assert first.exit_code == 0, first.output
    assert "Warning" not in first.output  # the first migrate seeds the schedule from these very variables
    return runner


def test_add_list_replace_and_withdraw(migrated: CliRunner) -> None:
    later = ist_date(dt.datetime.now(dt.UTC)) + dt.timedelta(days=30)
    added = migrated.invoke(
        main,
        ["fees", "add", "--effective-from", str(later), "--platform-fee-bps", "1200", "--scout-bounty-paise", "2500"],
    )
    assert added.exit_code == 0, added.output
    assert added.output.splitlines() == [
        f"fee schedule 2 takes effect on {later} (IST); it follows the version of 2000-01-01:",
        "  platform fee            1200 bps (12%)  (was 1000 bps (10%))",
        "  gateway fee             150 bps (1.5%)",
        "  GST on the gateway fee  1800 bps (18%)",
        "  scout bounty            Rs 25.00  (was Rs 10.00)",
        "  minimum payout          Rs 100.00",
        "  hold period             2 days",
    ]
    listed = migrated.invoke(main, ["fees", "list"])
    assert listed.exit_code == 0, listed.output
    header, seed, scheduled = listed.output.splitlines()
    assert [cell.strip() for cell in header.split("  ") if cell.strip()][:4] == [
        "id",
        "effective from",
        "until",
        "status",
    ]
    assert seed.split() == ["1", "2000-01-01", str(later - dt.timedelta(days=1)), "in", "effect", "1000", "bps",
                            "(10%)", "150", "bps", "(1.5%)", "1800", "bps", "(18%)", "Rs", "10.00", "Rs", "100.00",
                            "2", "days"]  # fmt: skip
    assert scheduled.split()[:4] == ["2", str(later), "-", "scheduled"]

    again = migrated.invoke(main, ["fees", "add", "--effective-from", str(later), "--hold-days", "1"])
    assert again.exit_code == 1
    assert f"Error: fee_schedule_exists: a version already takes effect on {later}" in again.output
    replaced = migrated.invoke(main, ["fees", "add", "--effective-from", str(later), "--hold-days", "1", "--replace"])
    assert replaced.exit_code == 0, replaced.output
    assert f"fee schedule 3 takes effect on {later} (IST); it replaces the version of {later}:" in replaced.output
    assert "  scout bounty            Rs 25.00\n" in replaced.output  # carried over from the version replaced
    assert "  hold period             1 day  (was 2 days)\n" in replaced.output

    withdrawn = migrated.invoke(main, ["fees", "withdraw", "--effective-from", str(later)])
    assert (withdrawn.exit_code, withdrawn.output) == (0, f"fee schedule 3 (from {later}) withdrawn\n")
    assert len(migrated.invoke(main, ["fees", "list"]).output.splitlines()) == 2


REFUSALS = [
    (["add", "--effective-from", "2026-11-01", "--hold-days", "1"], "fee_schedule_not_future"),
    (["add", "--effective-from", "2099-01-01", "--gateway-fee-bps", "9900"], "fee_schedule_invalid"),
    (["withdraw", "--effective-from", "2099-01-01"], "fee_schedule_not_found"),
    (["withdraw", "--effective-from", "2000-01-01"], "fee_schedule_not_future"),
    (["add", "--effective-from", "tomorrow"], "Invalid value for '--effective-from'"),
]


def test_refusals_are_clear_and_change_nothing(migrated: CliRunner) -> None:
    for args, error in REFUSALS:
        refused = migrated.invoke(main, ["fees", *args])
        assert refused.exit_code != 0, args
        assert error in refused.output
        assert "Traceback" not in refused.output
    assert len(migrated.invoke(main, ["fees", "list"]).output.splitlines()) == 2  # header and the seed


def test_migrate_warns_when_the_fee_variables_changed(migrated: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_FEE_BPS", "1300")
    monkeypatch.setenv("HOLD_DAYS", "3")
    again = migrated.invoke(main, ["migrate"])
    assert again.exit_code == 0, again.output
    today = ist_date(dt.datetime.now(dt.UTC))
    assert (
        f"Warning: these fee variables differ from the fee schedule in effect today ({today}, IST: version 1, "
        "effective from 2000-01-01):\n"
        "  PLATFORM_FEE_BPS=1300, but 1000 is in effect\n"
        "  HOLD_DAYS=3, but 2 is in effect\n"
        "They only seed the first schedule and change nothing now. To change a fee, add a version from a\n"
        "future IST date: settle fees add --effective-from YYYY-MM-DD --platform-fee-bps 1300 --hold-days 3"
        "  (docs/fees.md)\n"
    ) in again.stderr
    [logged] = [line for line in again.stderr.splitlines() if "[warning" in line]
    assert "fee settings differ from the fee schedule in effect" in logged
    assert "'PLATFORM_FEE_BPS': {'setting': 1300, 'in_effect': 1000}" in logged
    assert "schema at " in again.stdout
    listed = migrated.invoke(main, ["fees", "list"]).output.splitlines()
    assert listed[1].split()[5] == "1000"  # the variable changed nothing
