"""The scheduled ledger audit: the whole-ledger invariants, checked incrementally off the nightly path."""

import dagster as dg

from assets.resources import PostgresResource
from domain.books import audit


@dg.op(
    description="Audit the ledger since the last audit: every entry balances and has its lines, every close "
    "matches its lines, every payee's balance is what it is owed. Fails, and tells finance, on a problem."
)
def ledger_audit_op(context: dg.OpExecutionContext, db: PostgresResource) -> dict[str, object]:
    with db.begin() as conn:
        result = audit.audit_ledger(conn)
    if result is None:
        context.log.info("ledger audit: nothing new since the last audit")
        return {"entries": 0}
    summary = {
        "from_entry_id": result.from_entry_id,
        "through_entry_id": result.through_entry_id,
        "closes": result.closes,
        "problems": sorted(result.problems),
    }
    if not result.passed:
        raise dg.Failure("ledger audit found problems", metadata={"audit": dg.MetadataValue.json(summary)})
    context.log.info(f"ledger audit passed: {summary}")
    return summary


ASSETS: list[dg.AssetsDefinition] = []
CHECKS: list[dg.AssetChecksDefinition] = []
