"""The ledger invariants of `domain.invariants`, run as blocking asset checks on the live books."""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from assets.resources import PostgresResource
from domain.invariants import LEDGER_INVARIANTS, violations

LEDGER = dg.AssetKey("ledger")

ledger_books = dg.AssetSpec(
    LEDGER,
    description="The double-entry books (journal_entries, ledger_lines), written by the settlement, "
    "payout and refund assets.",
    group_name="ledger",
)


@dg.multi_asset_check(
    specs=[
        dg.AssetCheckSpec(invariant.name, asset=LEDGER, description=invariant.description, blocking=True)
        for invariant in LEDGER_INVARIANTS
    ],
)
def ledger_invariants(db: PostgresResource) -> Iterable[dg.AssetCheckResult]:
    with db.begin() as conn:
        for invariant in LEDGER_INVARIANTS:
            rows = violations(conn, invariant)
            yield dg.AssetCheckResult(
                asset_key=LEDGER,
                check_name=invariant.name,
                passed=not rows,
                severity=dg.AssetCheckSeverity.ERROR,
                metadata={"offending_rows": dg.MetadataValue.json(rows[:20]), "count": len(rows)},
            )
