"""Reports in, classes and breaks out. The caller owns the transaction.

A report is stored whole or not at all: the raw bytes and their SHA-256, then every row, paise exact,
read set-based (COPY, then SQL) so a million-row file costs statements, not Python per row.
The same file twice is the first import again; a different file for a day already imported is that
day's next version. Reconciling a version rewrites its items (derived), opens or sees again its
breaks (stable ids), clears the day's breaks it no longer finds, and writes the day's statement to
`analytics.recon_daily`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import psycopg2
import sqlalchemy as sa

from domain.outbox import events, outbox
from domain.platform.clock import Day
from domain.platform.sql import statement
from domain.reconciliation import rules
from domain.reconciliation.gateway import SettlementReport
from domain.reconciliation.tables import gateway_report_rows, gateway_reports, recon_daily, recon_items


@dataclass(frozen=True, slots=True)
class StoredReport:
    report_id: int
    report_date: dt.date
    version: int
    sha256: str
    rows: int
    settled_paise: int
    created: bool


@dataclass(frozen=True, slots=True)
class StatementLine:
    klass: str
    items: int
    expected_paise: int
    reported_paise: int
    difference_paise: int


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """One report version against the day's books."""

    report: StoredReport
    report_total_paise: int
    books_total_paise: int
    residual_paise: int
    lines: tuple[StatementLine, ...]
    new_exceptions: dict[str, int] = field(default_factory=dict)
    cleared_exceptions: int = 0

    @property
    def difference_paise(self) -> int:
        return self.report_total_paise - self.books_total_paise

    def count(self, klass: str) -> int:
        return next((line.items for line in self.lines if line.klass == klass), 0)


def store_report(
    conn: sa.Connection,
    content: bytes,
    parse: Callable[[], SettlementReport],
    *,
    report_date: dt.date,
    source: str,
    received_by: str,
    filename: str | None = None,
) -> StoredReport:
    """Keep a report with its raw bytes; the same bytes again return the first import.

    The file is imported set-based: COPY of its records, checked and converted in SQL. `parse` (the
    gateway's parser) is called only for a file the SQL refuses or COPY may read otherwise than the
    parser: it words the refusal, with its line numbers, or, for a file it accepts, gives the rows.
    """
    digest = hashlib.sha256(content).hexdigest()
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext('gateway_report:' || :day))"), {"day": str(report_date)}
    )
    existing = conn.execute(
        sa.select(gateway_reports).where(
            gateway_reports.c.report_date == report_date, gateway_reports.c.sha256 == digest
        )
    ).one_or_none()
    if existing is not None:
        return _stored(existing, created=False)
    version = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(gateway_reports.c.version), 0) + 1).where(
            gateway_reports.c.report_date == report_date
        )
    ).scalar_one()
    values = {
        "report_date": report_date,
        "version": version,
        "sha256": digest,
        "source": source,
        "filename": filename,
        "content": content,
        "received_by": received_by,
    }
    staging = conn.begin_nested()
    totals = _stage(conn, content)
    if totals is not None:
        row = conn.execute(sa.insert(gateway_reports).values(**values, **totals).returning(gateway_reports)).one()
        conn.execute(statement("reconciliation/insert_staged_rows"), {"report_id": row.report_id})
        conn.execute(sa.text("DROP TABLE staged_report CASCADE"))
        staging.commit()
        return _stored(row, created=True)
    staging.rollback()
    report = parse()
    row = conn.execute(
        sa.insert(gateway_reports)
        .values(**values, row_count=len(report.rows), settled_paise=report.settled_paise)
        .returning(gateway_reports)
    ).one()
    _copy_rows(conn, row.report_id, report)
    return _stored(row, created=True)


def latest_report(conn: sa.Connection, report_date: dt.date) -> StoredReport | None:
    row = conn.execute(
        sa.select(gateway_reports)
        .where(gateway_reports.c.report_date == report_date)
        .order_by(gateway_reports.c.version.desc())
        .limit(1)
    ).one_or_none()
    return None if row is None else _stored(row, created=False)


def reconcile(
    conn: sa.Connection, report: StoredReport, *, now: dt.datetime, settlement_window_days: int
) -> Reconciliation:
    """Classify the version's rows and the day's expected items, keep the breaks, write the statement."""
    day = Day.of(report.report_date)
    missing_is_break = now.date() > report.report_date + dt.timedelta(days=settlement_window_days)
    conn.execute(sa.delete(recon_items).where(recon_items.c.report_id == report.report_id))
    conn.execute(
        statement("reconciliation/classify"),
        {**day.params, "report_id": report.report_id, "missing_is_break": missing_is_break},
    )
    params = {"report_id": report.report_id, "day": report.report_date, "now": now}
    seen = conn.execute(
        statement("reconciliation/exceptions"), {**params, "break_classes": list(rules.BREAK_CLASSES)}
    ).all()
    new = [row for row in seen if row.new]
    cleared = conn.execute(
        statement("reconciliation/clear_exceptions"), {**params, "seen": [row.exception_id for row in seen]}
    ).all()
    result = _statement(conn, report, day)
    result = Reconciliation(
        report=report,
        report_total_paise=result.report_total_paise,
        books_total_paise=result.books_total_paise,
        residual_paise=result.residual_paise,
        lines=result.lines,
        new_exceptions=dict(Counter(row.klass for row in new)),
        cleared_exceptions=len(cleared),
    )
    _write_daily(conn, result)
    if new:
        found = events.ReconBreaksFound(
            report_date=report.report_date.isoformat(),
            report_id=report.report_id,
            version=report.version,
            new_exceptions=len(new),
            classes=result.new_exceptions,
            difference_paise=sum(int(row.difference_paise) for row in new),
        )
        outbox.write(conn, [events.recon_breaks_found(found, "items")])
    return result


def _statement(conn: sa.Connection, report: StoredReport, day: Day) -> Reconciliation:
    rows = conn.execute(
        statement("reconciliation/statement"),
        {**day.params, "report_id": report.report_id, "classes": list(rules.CLASSES)},
    ).all()
    first = rows[0]
    return Reconciliation(
        report=report,
        report_total_paise=int(first.report_total_paise),
        books_total_paise=int(first.books_total_paise),
        residual_paise=int(first.residual_paise),
        lines=tuple(
            StatementLine(
                row.klass, int(row.items), int(row.expected_paise), int(row.reported_paise), int(row.difference_paise)
            )
            for row in rows
        ),
    )


def _write_daily(conn: sa.Connection, result: Reconciliation) -> None:
    day = result.report.report_date
    conn.execute(sa.delete(recon_daily).where(recon_daily.c.report_date == day))
    conn.execute(
        sa.insert(recon_daily),
        [
            {
                "report_date": day,
                "class": line.klass,
                "report_version": result.report.version,
                "items": line.items,
                "expected_paise": line.expected_paise,
                "reported_paise": line.reported_paise,
                "difference_paise": line.difference_paise,
                "report_total_paise": result.report_total_paise,
                "books_total_paise": result.books_total_paise,
                "residual_paise": result.residual_paise,
            }
            for line in result.lines
        ],
    )


def _stored(row: Any, *, created: bool) -> StoredReport:
    return StoredReport(
        report_id=int(row.report_id),
        report_date=row.report_date,
        version=int(row.version),
        sha256=row.sha256,
        rows=int(row.row_count),
        settled_paise=int(row.settled_paise),
        created=created,
    )


_ROW_FIELDS = tuple(column.name for column in gateway_report_rows.columns if column.name != "report_id")
"""The columns a parsed row fills, each named as the row's attribute."""
_row_fields = attrgetter(*_ROW_FIELDS)


def _copy_rows(conn: sa.Connection, report_id: int, report: SettlementReport) -> None:
    """COPY the parser's rows of a file COPY may read otherwise than the parser, in the transaction.
    Every text is quoted, so an empty cell stays an empty string, never NULL."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerows((report_id, *_row_fields(row)) for row in report.rows)
    buffer.seek(0)
    with conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
        cursor.copy_expert(
            f"COPY gateway_report_rows (report_id, {', '.join(_ROW_FIELDS)}) FROM STDIN WITH (FORMAT csv)", buffer
        )


_BOM = b"\xef\xbb\xbf"
_QUOTED_FIELD = re.compile(rb'(?:(?<=[,\r\n])|\A)"(?:[^"]|"")*"(?=[,\r\n]|\Z)')
"""A quoted field as both readers read it: from a field's start to its end, inner quotes doubled."""


def _stage(conn: sa.Connection, content: bytes) -> dict[str, int] | None:
    """COPY the file's records into `staged_report` and check them; the totals of a report the parser
    would accept, or None (the caller rolls the staging back).

    COPY's CSV reads a quote inside an unquoted field, or text after a closing quote, otherwise
    than Python's csv module, and older servers end the data at a line `\\.`: such files go to the
    parser. Anything else COPY cannot read (ragged rows, blank lines, mixed line ends, bad UTF-8)
    fails the COPY and goes to the parser too.
    """
    body = content.removeprefix(_BOM)
    if b"\\." in body or (b'"' in body and b'"' in _QUOTED_FIELD.sub(b"", body)):
        return None
    conn.execute(statement("reconciliation/stage_report"))
    buffer = io.BytesIO(body)
    try:
        with conn.connection.dbapi_connection.cursor() as cursor:  # type: ignore[union-attr]
            cursor.copy_expert(_STAGE_COPY, buffer, size=1 << 20)
    except psycopg2.DataError:
        return None
    totals = conn.execute(statement("reconciliation/staged_report_totals")).one()
    if not totals.header_ok or totals.invalid:
        return None
    return {"row_count": int(totals.row_count), "settled_paise": int(totals.settled_paise)}


_STAGE_COPY = (
    "COPY staged_report (payment_type, merchant_reference_id, phonepe_reference_id, payer, instrument, created_at, "
    "amount, fee, transaction_at, settlement_date, bank_reference_no, igst, cgst, sgst) "
    "FROM STDIN WITH (FORMAT csv, ENCODING 'UTF8')"
)
