"""Reconciliation in Dagster: the day's PhonePe settlement report (downloaded, or imported by finance),
and the day's statement against the books, with its blocking check. The work is in
`domain.reconciliation`; a report's own Great Expectations suite lives in `assets.quality`.
"""

import contextlib
import datetime as dt
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from assets import checks, metadata
from assets.partitions import daily_partitions
from assets.resources import PaymentsGatewayResource, PayoutsGatewayResource, PostgresResource, SettingsResource
from domain.money import format_rupees
from domain.platform.gateway_errors import NotFoundError
from domain.reconciliation import resolution, statement, workflow
from domain.reconciliation.store import Reconciliation
from domain.reconciliation.tables import recon_exceptions

BALANCED = "recon_balanced"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dg.asset(
    partitions_def=daily_partitions,
    group_name="reconciliation",
    description="The gateway's settlement report for the day, downloaded (retried like every read) and kept "
    "with its SHA-256: the same file again changes nothing, a different one is the day's next version. A report "
    "the gateway has not published yet is taken by a later run; until then the day's sellers are not paid.",
)
def settlement_report(
    context: dg.AssetExecutionContext, db: PostgresResource, phonepe: PaymentsGatewayResource
) -> dg.MaterializeResult:
    day = dt.date.fromisoformat(context.partition_key)
    with contextlib.closing(phonepe.client()) as client:
        try:
            stored = workflow.fetch_report(db.engine, client, day)
        except NotFoundError:
            context.log.warning(f"the gateway has not published its settlement report for {day} yet")
            return dg.MaterializeResult(metadata={"published": False})
    return dg.MaterializeResult(
        metadata={
            "report_id": stored.report_id,
            "version": stored.version,
            "rows": stored.rows,
            "settled_paise": stored.settled_paise,
            "sha256": stored.sha256,
            "new_version": stored.created,
            "published": True,
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="reconciliation",
    deps=[settlement_report],
    description="The gateway-to-bank settlement of the day's report, one entry per settlement batch (UTR) whose "
    "bank credit has arrived: +bank, -gateway clearing, +GST input credit, the gap to recon suspense. A transfer "
    "that differs from its batch's rows is a break of its own.",
)
def gateway_settlements(
    context: dg.AssetExecutionContext, db: PostgresResource, razorpayx: PayoutsGatewayResource
) -> dg.MaterializeResult:
    day = dt.date.fromisoformat(context.partition_key)
    with contextlib.closing(razorpayx.client()) as bank:
        outcome = workflow.post_cash(db.engine, bank, day, now=_now())
    if outcome is None:
        raise dg.Failure(f"no settlement report for {day} was received")
    posted, waiting = outcome
    return dg.MaterializeResult(
        metadata={
            "batches_posted": len(posted),
            "batches_waiting_for_the_bank": dg.MetadataValue.json(waiting),
            "bank_paise": sum(batch.transfer_paise for batch in posted),
            "suspense_paise": sum(batch.suspense_paise for batch in posted),
        }
    )


@dg.asset(
    partitions_def=daily_partitions,
    group_name="reconciliation",
    deps=[settlement_report, gateway_settlements],
    check_specs=[
        dg.AssetCheckSpec(
            BALANCED,
            asset="recon_statement",
            blocking=True,
            partitions_def=daily_partitions,
            description="The statement explains the report down to a residual of 0 paise, and no open break of "
            "the day is above RECON_BLOCKING_THRESHOLD_PAISE.",
        )
    ],
    description="The day's latest report version against the books: every row and expected item in one class, "
    "the breaks kept as exceptions, and the statement finance reads.",
)
def recon_statement(  # type: ignore[no-untyped-def]
    context: dg.AssetExecutionContext, db: PostgresResource, settings: SettingsResource
):
    configured = settings.get()
    day = dt.date.fromisoformat(context.partition_key)
    result = workflow.reconcile_day(
        db.engine, day, now=_now(), settlement_window_days=configured.recon_settlement_window_days
    )
    if result is None:
        raise dg.Failure(f"no settlement report for {day} was received")
    with db.begin() as conn:
        breaks = resolution.open_breaks(conn, day, metadata.TABLE_ROWS)
    yield dg.MaterializeResult(metadata={**_metadata(result), **_open_breaks(breaks)})
    yield _balanced(db, context, result, configured.recon_blocking_threshold_paise)


def _metadata(result: Reconciliation) -> dict[str, object]:
    table = dg.MetadataValue.table(
        records=[
            dg.TableRecord(
                {
                    "class": line.klass,
                    "items": line.items,
                    "expected": format_rupees(line.expected_paise),
                    "reported": format_rupees(line.reported_paise),
                    "difference": format_rupees(line.difference_paise),
                }
            )
            for line in result.lines
            if line.items
        ],
        schema=dg.TableSchema(
            columns=[
                dg.TableColumn("class", "string"),
                dg.TableColumn("items", "int"),
                dg.TableColumn("expected", "string"),
                dg.TableColumn("reported", "string"),
                dg.TableColumn("difference", "string"),
            ]
        ),
    )
    return {
        "statement": dg.MetadataValue.md(statement.markdown(result)),
        "classes": table,
        "report_total_paise": result.report_total_paise,
        "books_total_paise": result.books_total_paise,
        "difference_paise": result.difference_paise,
        "residual_paise": result.residual_paise,
        "new_exceptions": sum(result.new_exceptions.values()),
        "cleared_exceptions": result.cleared_exceptions,
    }


def _open_breaks(breaks: resolution.OpenBreaks) -> dict[str, object]:
    """Every break still open up to the day, not only the day's own: what finance has left to resolve."""
    return {
        "open_breaks": breaks.count,
        "open_breaks_paise": breaks.paise,
        "oldest_open_breaks": metadata.table(
            [
                {
                    "exception_id": row["exception_id"],
                    "class": row["klass"],
                    "expected": format_rupees(row["expected_paise"]),
                    "reported": format_rupees(row["reported_paise"]),
                    "age_days": row["age_days"],
                }
                for row in breaks.oldest
            ],
            [
                ("exception_id", "string"),
                ("class", "string"),
                ("expected", "string"),
                ("reported", "string"),
                ("age_days", "int"),
            ],
        ),
    }


def _balanced(
    db: PostgresResource, context: dg.AssetExecutionContext, result: Reconciliation, threshold_paise: int
) -> dg.AssetCheckResult:
    x = recon_exceptions.c
    with db.begin() as conn:
        blocking = conn.execute(
            sa.select(x.exception_id, x["class"], x.expected_paise, x.reported_paise)
            .where(
                x.report_date == result.report.report_date,
                x.status == "open",
                sa.func.abs(x.reported_paise - x.expected_paise) > threshold_paise,
            )
            .order_by(x.exception_id)
        ).all()
    passed = result.residual_paise == 0 and not blocking
    details = {
        "residual_paise": result.residual_paise,
        "open_breaks_above_threshold": len(blocking),
        "threshold_paise": threshold_paise,
        "sample": [
            {"exception_id": row[0], "class": row[1], "expected_paise": int(row[2]), "reported_paise": int(row[3])}
            for row in blocking[:20]
        ],
    }
    checks.record(db, context, "recon_statement", BALANCED, passed, details)
    return dg.AssetCheckResult(
        check_name=BALANCED,
        passed=passed,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "residual_paise": result.residual_paise,
            "open_breaks_above_threshold": len(blocking),
            "sample": dg.MetadataValue.json(details["sample"]),
        },
    )


class ImportReportConfig(dg.Config):
    """A report file finance received: its path on the code server, the IST day it reports, who imports it."""

    path: str
    report_date: str
    actor: str = "finance"


@dg.op(
    description="Finance: keep a settlement report file (refused whole, with line numbers, if malformed) and "
    "reconcile its day with it."
)
def import_settlement_report_op(
    context: dg.OpExecutionContext,
    config: ImportReportConfig,
    db: PostgresResource,
    phonepe: PaymentsGatewayResource,
    settings: SettingsResource,
) -> dict[str, object]:
    day = dt.date.fromisoformat(config.report_date)
    with contextlib.closing(phonepe.client()) as client:
        stored = workflow.import_report(db.engine, client, Path(config.path), day, received_by=config.actor)
    result = workflow.reconcile_day(
        db.engine, day, now=_now(), settlement_window_days=settings.get().recon_settlement_window_days
    )
    assert result is not None
    context.log.info(statement.markdown(result))
    return {"report_id": stored.report_id, "version": stored.version, "residual_paise": result.residual_paise}


ASSETS = [settlement_report, gateway_settlements, recon_statement]
CHECKS: list[dg.AssetChecksDefinition] = []
