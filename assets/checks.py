"""Running checks and remembering their results: the one writer of `check_results`, and which
blocking checks guard an asset (read from the definitions, never kept by hand)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import dagster as dg
import sqlalchemy as sa

from assets.partitions import daily_partitions
from assets.resources import PostgresResource
from domain.platform.invariants import Invariant, check_all
from domain.platform.sql import statement
from domain.platform.tables import check_results


def record(
    db: PostgresResource,
    context: dg.AssetCheckExecutionContext | dg.AssetExecutionContext,
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


def specs(asset: str, invariants: tuple[Invariant, ...]) -> list[dg.AssetCheckSpec]:
    """Blocking checks evaluated inside the asset's own step (no step of their own), one per invariant."""
    return [
        dg.AssetCheckSpec(
            invariant.name,
            asset=asset,
            blocking=True,
            description=invariant.description,
            partitions_def=daily_partitions,
        )
        for invariant in invariants
    ]


def evaluate(
    db: PostgresResource,
    context: dg.AssetExecutionContext,
    asset: str,
    invariants: tuple[Invariant, ...],
    params: dict[str, object],
) -> list[dg.AssetCheckResult]:
    """Run invariants with `params`, store each result, and return them as the asset's check results."""
    results = []
    with db.begin() as conn:
        broken = check_all(conn, invariants, params)
    for invariant in invariants:
        rows = broken.get(invariant.name, [])
        shown = {"offending": rows[:20], "params": {key: str(value) for key, value in params.items()}}
        record(db, context, asset, invariant.name, not rows, shown)
        results.append(
            dg.AssetCheckResult(
                check_name=invariant.name,
                passed=not rows,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"offending_rows": len(rows), "sample": dg.MetadataValue.json(rows[:20])},
            )
        )
    return results


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
