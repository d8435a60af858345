"""Dagster wiring: the definitions load with every asset, check, job and schedule, and the
instance stores runs in PostgreSQL."""

from __future__ import annotations

import dagster as dg

from domain.platform.settings import Settings
from pipelines.definitions import defs
from pipelines.instance import prepare_dagster_home, render_instance_config


def test_definitions_load() -> None:
    repository = defs.get_repository_def()
    assert "nightly_settlement" in {job.name for job in repository.get_all_jobs()}
    assert defs.executor is dg.in_process_executor  # type: ignore[comparison-overlap]
    keys = {key.to_user_string() for key in repository.asset_graph.get_all_asset_keys()}
    assert {"captures", "settlements", "scout_bounties", "ledger_close", "analytics/daily_revenue"} <= keys
    checks = {key.name for key in repository.asset_graph.asset_check_keys}
    assert {"captures_expectations", "day_orders_expectations", "entries_balance"} <= checks
    blocking = {spec.name for ad in repository.asset_graph.assets_defs for spec in ad.check_specs if spec.blocking}
    assert blocking == checks


def test_instance_template_uses_postgres_storage(settings: Settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    rendered = render_instance_config("postgresql+psycopg2://u@h/dagster")
    assert 'postgres_url: "postgresql+psycopg2://u@h/dagster"' in rendered
    home = prepare_dagster_home(settings, tmp_path / "home", database="dagster_test_instance")
    instance = dg.DagsterInstance.from_config(str(home))
    try:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    finally:
        instance.dispose()


def test_descriptions_speak_plainly() -> None:
    """Finance reads these in the Dagster UI and has no DESIGN.md: no description may cite it."""
    repository = defs.get_repository_def()
    graph = repository.asset_graph
    assets = {key.to_user_string(): graph.get(key).description for key in graph.get_all_asset_keys()}
    checks = {
        f"{key.asset_key.to_user_string()}:{key.name}": graph.get(key).description for key in graph.asset_check_keys
    }
    instigators = [*repository.get_all_jobs(), *repository.sensor_defs, *repository.schedule_defs]
    others = {definition.name: definition.description for definition in instigators}
    assert (len(assets), len(checks)) == (18, 22)
    assert [name for name, text in {**assets, **checks}.items() if not text] == []
    described = {**assets, **checks, **others}
    assert [name for name, text in described.items() if text and ("DESIGN" in text or "§" in text)] == []
