"""A day's reconciliation: take the gateway's report (downloaded, or a file finance imports), keep it,
and reconcile its latest version against the books, each in its own transaction."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa
import structlog

from domain.reconciliation import cash, store
from domain.reconciliation.gateway import BankStatementGateway, SettlementReportGateway
from domain.reconciliation.store import Reconciliation, StoredReport

log = structlog.get_logger(__name__)


def fetch_report(engine: sa.Engine, gateway: SettlementReportGateway, report_date: dt.date) -> StoredReport:
    """Download the day's report (the client retries what is safe to retry) and keep it."""
    content = gateway.download_settlement_report(report_date)
    return _keep(engine, gateway, content, report_date, source="gateway", received_by="reconciliation")


def import_report(
    engine: sa.Engine, gateway: SettlementReportGateway, path: Path, report_date: dt.date, *, received_by: str
) -> StoredReport:
    """Keep a report file finance received; a malformed file is refused whole, with its line numbers."""
    return _keep(engine, gateway, path.read_bytes(), report_date, source="file", received_by=received_by,
                 filename=path.name)  # fmt: skip


def reconcile_day(
    engine: sa.Engine, report_date: dt.date, *, now: dt.datetime, settlement_window_days: int
) -> Reconciliation | None:
    """Reconcile the day's latest report version; None when no report for the day was received."""
    with engine.begin() as conn:
        report = store.latest_report(conn, report_date)
        if report is None:
            return None
        result = store.reconcile(conn, report, now=now, settlement_window_days=settlement_window_days)
    log.info(
        "reconciled",
        report_date=report_date.isoformat(),
        version=report.version,
        difference_paise=result.difference_paise,
        residual_paise=result.residual_paise,
        new_exceptions=sum(result.new_exceptions.values()),
        cleared_exceptions=result.cleared_exceptions,
    )
    return result


def post_cash(
    engine: sa.Engine, bank: BankStatementGateway, report_date: dt.date, *, now: dt.datetime
) -> tuple[list[cash.PostedBatch], list[str]] | None:
    """Post the settlement batches of the day's latest report whose bank credits have arrived (read
    from the bank statement for each batch's settlement date); the UTRs still waiting. None without
    a report."""
    with engine.begin() as conn:
        report = store.latest_report(conn, report_date)
        if report is None:
            return None
        dates = sorted({batch.settlement_date for batch in cash.batches(conn, report)})
    credits = [credit for day in dates for credit in bank.bank_credits(day)]
    with engine.begin() as conn:
        posted, waiting = cash.post_batches(conn, report, credits, now=now)
    log.info("settlement_batches_posted", report_date=report_date.isoformat(), posted=len(posted),
             waiting=len(waiting), suspense_paise=sum(batch.suspense_paise for batch in posted))  # fmt: skip
    return posted, waiting


def _keep(
    engine: sa.Engine,
    gateway: SettlementReportGateway,
    content: bytes,
    report_date: dt.date,
    *,
    source: str,
    received_by: str,
    filename: str | None = None,
) -> StoredReport:
    with engine.begin() as conn:
        stored = store.store_report(
            conn,
            content,
            lambda: gateway.parse_settlement_report(content, report_date),
            report_date=report_date,
            source=source,
            received_by=received_by,
            filename=filename,
        )
    log.info("settlement_report_kept", report_date=report_date.isoformat(), version=stored.version,
             rows=stored.rows, created=stored.created)  # fmt: skip
    return stored
