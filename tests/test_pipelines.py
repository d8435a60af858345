"""Dagster wiring: the definitions load, the ledger checks run, and the instance uses PostgreSQL."""

from __future__ import annotations

import dagster as dg
import sqlalchemy as sa

from assets.resources import PostgresResource
from domain import ledger
from domain.settings import Settings
from pipelines.definitions import defs
from pipelines.instance import prepare_dagster_home, render_instance_config


def test_definitions_load() -> None:
    repository = defs.get_repository_def()
    assert "ledger_check_job" in {job.name for job in repository.get_all_jobs()}
    assert defs.executor is dg.in_process_executor  # type: ignore[comparison-overlap]


def test_ledger_checks_pass_on_balanced_books(database_url: str, engine: sa.Engine) -> None:
    with engine.begin() as conn:
        ledger.post_entry(conn, ledger.payout_completed_entry("pay_pipeline_check", 100))
    job = defs.resolve_job_def("ledger_check_job")
    result = job.execute_in_process(resources={"db": PostgresResource(url=database_url)})
    assert result.success
    evaluations = result.get_asset_check_evaluations()
    assert {e.check_name for e in evaluations} == {
        "entries_balance",
        "ledger_sums_to_zero",
        "entries_have_lines",
        "accounts_well_named",
    }
    assert all(e.passed for e in evaluations)


def test_instance_template_uses_postgres_storage(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rendered = render_instance_config("postgresql+psycopg2://u@h/dagster")
    assert 'postgres_url: "postgresql+psycopg2://u@h/dagster"' in rendered
    home = prepare_dagster_home(settings, tmp_path / "home", database="dagster_test_instance")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    finally:
        instance.dispose()
