"""The scheduled ledger audit (the whole-ledger invariants, checked incrementally off the nightly path)
and finance's ledger replay (the books rebuilt from the raw facts and compared with the live ones)."""

import dagster as dg

from assets.resources import PostgresResource
from domain.books import audit, replay


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


@dg.op(
    description="Rebuild the ledger and the subledger from the raw facts (orders, confirmed payments, fee "
    "schedules, refund and payout outcomes, resolved breaks) and compare them with the books, entry by entry. "
    "Writes nothing; fails, listing the first differences, when any entry, line, balance or row differs."
)
def ledger_verify_op(context: dg.OpExecutionContext, db: PostgresResource) -> dict[str, object]:
    result = replay.verify_books(db.engine)
    report = result.as_dict()
    metadata = {
        "compared": dg.MetadataValue.json(result.compared),
        "differences": dg.MetadataValue.int(result.differences),
        "differences_by_kind": dg.MetadataValue.json(result.differences_by_kind),
    }
    if not result.passed:
        first = dg.MetadataValue.json(report["first_differences"])
        raise dg.Failure("the books differ from their replay", metadata={**metadata, "first_differences": first})
    context.add_output_metadata(metadata)
    context.log.info(f"ledger replay: no differences over {result.compared}")
    return report


ASSETS: list[dg.AssetsDefinition] = []
CHECKS: list[dg.AssetChecksDefinition] = []
