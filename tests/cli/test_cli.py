"""The `settle` command line against the test server (DATABASE_URL set, so nothing embedded starts)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from cli.api import metrics_directory
from cli.main import main
from domain.platform.database import create_engine
from domain.platform.migrations import head_revision


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch, tmp_path) -> CliRunner:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_FORMAT", "console")
    return CliRunner()


def test_migrate_then_db_url(runner: CliRunner, make_database, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    url = make_database("cli")
    monkeypatch.setenv("DATABASE_URL", url)
    result = runner.invoke(main, ["migrate"])
    assert result.exit_code == 0, result.output
    assert f"schema at {head_revision(url)}" in result.output
    home = Path(result.output.split("Dagster instance at ", 1)[1].strip())
    assert "postgres_url" in (home / "dagster.yaml").read_text()
    again = runner.invoke(main, ["migrate"])
    assert again.exit_code == 0
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM fee_schedules")).scalar_one() == 1
    engine.dispose()
    printed = runner.invoke(main, ["db", "url"])
    assert printed.output.strip() == url


def test_db_down_with_external_database(runner: CliRunner, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = runner.invoke(main, ["db", "down"])
    assert result.exit_code == 0
    assert "nothing embedded to stop" in result.output


def test_invalid_setting_is_a_clear_error(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PLATFORM_FEE_BPS", "lots")
    result = runner.invoke(main, ["db", "url"])
    assert result.exit_code == 1
    assert "PLATFORM_FEE_BPS" in result.output
    assert "Traceback" not in result.output


def test_embedded_database_up_reuse_down(runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    first = runner.invoke(main, ["db", "up"])
    assert first.exit_code == 0, first.output
    assert "embedded" in first.output
    url = runner.invoke(main, ["db", "url"]).output.strip()  # reuses the running server
    assert url.startswith("postgresql+psycopg2://") and url.split("?")[0].endswith("/settlement")
    engine = create_engine(url)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT current_database()")).scalar_one() == "settlement"
    engine.dispose()
    down = runner.invoke(main, ["db", "down"])
    assert "embedded database stopped" in down.output
    assert "was not running" in runner.invoke(main, ["db", "down"]).output


def test_sandbox_command_is_registered(runner: CliRunner, tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = runner.invoke(main, ["sandbox", "--help"])
    assert result.exit_code == 0
    assert "--config" in result.output and "--seed" in result.output
    bad = tmp_path / "sandbox.json"
    bad.write_text('{"faults": {"endpoints": {"payout_create": {"error_rate": 2}}}}')
    refused = runner.invoke(main, ["sandbox", "--config", str(bad)])
    assert refused.exit_code == 1
    assert "invalid sandbox config" in refused.output


def test_api_workers_get_a_fresh_metrics_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Several workers and no PROMETHEUS_MULTIPROC_DIR (settle dev, settle demo, a shell): one for the run."""
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    with metrics_directory(workers=2):
        directory = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
        assert directory.is_dir() and list(directory.iterdir()) == []
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert not directory.exists()
    with metrics_directory(workers=1):
        assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ  # one worker: its own registry


def test_api_empties_the_configured_metrics_directory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A previous run's sample files go; anything else in the directory stays."""
    (tmp_path / "counter_4242.db").write_bytes(b"stale")
    (tmp_path / "histogram_4242.db").write_bytes(b"stale")
    (tmp_path / "README").write_text("not ours")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    with metrics_directory(workers=2):
        assert os.environ["PROMETHEUS_MULTIPROC_DIR"] == str(tmp_path)
        assert [path.name for path in tmp_path.iterdir()] == ["README"]
    missing = tmp_path / "missing"
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(missing))
    with metrics_directory(workers=2):
        assert missing.is_dir()
