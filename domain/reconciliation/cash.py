"""The gateway-to-bank settlement, posted per settlement batch (UTR) once the bank has the money.

Per batch: +bank what the bank received, -gateway_clearing what our books hold for the batch's
known rows, +gst_input_credit the GST the gateway charged on its fees (the platform bears it and
claims it back), and the rest to recon_suspense, where the batch's breaks hold it until each is
resolved. A transfer that differs from the batch's own rows is a break of its own
(`batch_total_mismatch`). A batch is posted once (its key is the UTR); a batch whose credit has not
arrived waits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from domain.ledger import entries, posting
from domain.ledger.tables import journal_entries
from domain.outbox import events, outbox
from domain.platform.sql import statement
from domain.reconciliation import rules
from domain.reconciliation.gateway import BankCredit
from domain.reconciliation.store import StoredReport
from domain.reconciliation.tables import recon_exceptions


@dataclass(frozen=True, slots=True)
class Batch:
    utr: str
    settlement_date: dt.date
    rows: int
    rows_settled_paise: int
    clearing_paise: int
    gst_paise: int


@dataclass(frozen=True, slots=True)
class PostedBatch:
    utr: str
    transfer_paise: int
    rows_settled_paise: int
    suspense_paise: int
    entry_id: int


def batches(conn: sa.Connection, report: StoredReport) -> list[Batch]:
    rows = conn.execute(statement("reconciliation/batches"), {"report_id": report.report_id}).all()
    return [
        Batch(r.utr, r.settlement_date, int(r.rows), int(r.rows_settled_paise), int(r.clearing_paise), int(r.gst_paise))
        for r in rows
    ]


def post_batches(
    conn: sa.Connection, report: StoredReport, credits: list[BankCredit], *, now: dt.datetime
) -> tuple[list[PostedBatch], list[str]]:
    """Post every batch of the report whose bank credit is among `credits`; the UTRs still waiting."""
    by_utr = {credit.utr: credit for credit in credits}
    posted, waiting, broken = [], [], []
    for batch in batches(conn, report):
        credit = by_utr.get(batch.utr)
        if credit is None:
            waiting.append(batch.utr)
            continue
        entry = entries.gateway_settlement_entry(batch.utr, credit.amount_paise, batch.clearing_paise, batch.gst_paise)
        if _posted(conn, entry.idempotency_key):
            continue  # posted from an earlier version of the report; its later differences are breaks
        entry_id = posting.post_entry(conn, entry).entry_id
        if credit.amount_paise != batch.rows_settled_paise and _batch_break(conn, report, batch, credit, now):
            broken.append(credit.amount_paise - batch.rows_settled_paise)
        suspense = batch.clearing_paise - batch.gst_paise - credit.amount_paise
        posted.append(PostedBatch(batch.utr, credit.amount_paise, batch.rows_settled_paise, suspense, entry_id))
    if broken:
        found = events.ReconBreaksFound(
            report_date=report.report_date.isoformat(),
            report_id=report.report_id,
            version=report.version,
            new_exceptions=len(broken),
            classes={rules.BATCH_TOTAL_MISMATCH: len(broken)},
            difference_paise=sum(broken),
        )
        outbox.write(conn, [events.recon_breaks_found(found, "batches")])
    return posted, waiting


def _posted(conn: sa.Connection, key: str) -> bool:
    found = conn.execute(sa.select(journal_entries.c.entry_id).where(journal_entries.c.idempotency_key == key))
    return found.first() is not None


def _batch_break(conn: sa.Connection, report: StoredReport, batch: Batch, credit: BankCredit, now: dt.datetime) -> bool:
    """The bank received other than the batch's rows add up to: expected = the rows, reported = the bank.
    True when the break is new."""
    exception_id = rules.exception_id(str(report.report_date), rules.BATCH_TOTAL_MISMATCH, "BATCH", batch.utr)
    values = {
        "exception_id": exception_id,
        "report_date": report.report_date,
        "class": rules.BATCH_TOTAL_MISMATCH,
        "payment_type": "BATCH",
        "reference_id": batch.utr,
        "report_id": report.report_id,
        "expected_paise": batch.rows_settled_paise,
        "reported_paise": credit.amount_paise,
        "first_seen_at": now,
        "last_seen_at": now,
    }
    insert = pg_insert(recon_exceptions).values(values)
    upsert = insert.on_conflict_do_update(index_elements=["exception_id"], set_={"last_seen_at": now})
    return bool(conn.execute(upsert.returning(sa.literal_column("xmax = 0"))).scalar_one())
