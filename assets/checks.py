"""Running checks and remembering their results: the one writer of `check_results`, and which
blocking checks guard an asset (read from the definitions, never kept by hand)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg
import sqlalchemy as sa

from assets.resources import PostgresResource
from domain.platform.sql import statement
from domain.platform.tables import check_results


def record(
    db: PostgresResource,
    context: dg.AssetCheckExecutionContext,
    asset: str,
    check_name: str,
    passed: bool,
    details: dict[str, Any],
) -> None:
    with db.begin() as conn:
        conn.execute(
            sa.insert(check_results).values(
                run_id=context.run.run_id,
                partition_key=context.partition_key if context.has_partition_key else None,
                asset_key=asset,
                check_name=check_name,
                passed=passed,
                details=details,
            )
        )


def blocking_checks_upstream(asset_graph: Any, asset_key: dg.AssetKey) -> list[str]:
    """The blocking checks of every asset `asset_key` depends on, directly or not, by name."""
    names = {
        check_key.name
        for upstream in asset_graph.get_ancestor_asset_keys(asset_key)
        for check_key in asset_graph.get(upstream).check_keys
        if asset_graph.get_check_spec(check_key).blocking
    }
    return sorted(names)


def failed_checks(conn: sa.Connection, day: dt.date, names: list[str]) -> list[str]:
    """The named checks of `day` whose latest run did not pass (or that never ran)."""
    latest = dict(conn.execute(statement("checks/latest"), {"partition_key": day.isoformat(), "names": names}).all())
    return [name for name in names if not latest.get(name, False)]
