"""Reconciliation: the gateway's settlement reports as received, their rows, the classification of
each report against the subledger, and the breaks finance works through.

A report is stored once per day and distinct file (its SHA-256; two empty days' files are the same
bytes); a second, different file for the same day is a new version, reconciled on its own and never
merged with the first. Report rows are immutable. `recon_items` is derived (one row per reported or
expected item of a report version, rewritten by each reconciliation of that version);
`recon_exceptions` keeps the breaks, with stable ids, across re-runs.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import TIMESTAMP
from sqlalchemy.sql import func

from domain.platform.tables import created_at_column, in_values, metadata
from domain.reconciliation.rules import BREAK_CLASSES, CLASSES, EXCEPTION_STATUSES, PAYMENT_TYPES, REPORT_SOURCES

gateway_reports = Table(
    "gateway_reports",
    metadata,
    Column("report_id", BigInteger, primary_key=True, autoincrement=True),
    Column("report_date", Date, nullable=False),
    Column("version", Integer, nullable=False),
    Column("sha256", Text, nullable=False),
    Column("source", Text, nullable=False),
    Column("filename", Text),
    Column("content", LargeBinary, nullable=False),
    Column("row_count", Integer, nullable=False),
    Column("settled_paise", BigInteger, nullable=False),
    Column("received_by", Text, nullable=False),
    created_at_column(),
    UniqueConstraint("report_date", "version"),
    UniqueConstraint("report_date", "sha256"),
    CheckConstraint(in_values("source", REPORT_SOURCES), name="source"),
    CheckConstraint("version >= 1", name="version_positive"),
)

gateway_report_rows = Table(
    "gateway_report_rows",
    metadata,
    Column("report_id", BigInteger, ForeignKey("gateway_reports.report_id"), primary_key=True),
    Column("line", Integer, primary_key=True),
    Column("payment_type", Text, nullable=False),
    Column("merchant_reference_id", Text, nullable=False),
    Column("phonepe_reference_id", Text, nullable=False),
    Column("payer", Text, nullable=False),
    Column("instrument", Text, nullable=False),
    Column("created_at", TIMESTAMP(timezone=True), nullable=False),
    Column("transaction_at", TIMESTAMP(timezone=True), nullable=False),
    Column("settlement_date", Date, nullable=False),
    Column("bank_reference_no", Text, nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    Column("fee_paise", BigInteger, nullable=False),
    Column("igst_paise", BigInteger, nullable=False),
    Column("cgst_paise", BigInteger, nullable=False),
    Column("sgst_paise", BigInteger, nullable=False),
    Column("settled_paise", BigInteger, nullable=False),
    CheckConstraint(in_values("payment_type", PAYMENT_TYPES), name="payment_type"),
    Index(None, "merchant_reference_id"),
)

recon_items = Table(
    "recon_items",
    metadata,
    Column("report_id", BigInteger, ForeignKey("gateway_reports.report_id"), primary_key=True),
    Column("item_no", Integer, primary_key=True),
    Column("report_date", Date, nullable=False),
    Column("class", Text, nullable=False),
    Column("payment_type", Text, nullable=False),
    Column("reference_id", Text, nullable=False),
    Column("line", Integer),
    Column("bank_reference_no", Text),
    Column("expected_amount_paise", BigInteger, nullable=False),
    Column("reported_amount_paise", BigInteger, nullable=False),
    Column("expected_charges_paise", BigInteger, nullable=False),
    Column("reported_charges_paise", BigInteger, nullable=False),
    Column("expected_paise", BigInteger, nullable=False),
    Column("reported_paise", BigInteger, nullable=False),
    CheckConstraint(in_values("class", CLASSES), name="class"),
    Index(None, "report_date", "class"),
)

recon_exceptions = Table(
    "recon_exceptions",
    metadata,
    Column("exception_id", Text, primary_key=True),
    Column("report_date", Date, nullable=False),
    Column("class", Text, nullable=False),
    Column("payment_type", Text, nullable=False),
    Column("reference_id", Text, nullable=False),
    Column("report_id", BigInteger, ForeignKey("gateway_reports.report_id"), nullable=False),
    Column("line", Integer),
    Column("expected_paise", BigInteger, nullable=False),
    Column("reported_paise", BigInteger, nullable=False),
    Column("status", Text, nullable=False, server_default="open"),
    Column("first_seen_at", TIMESTAMP(timezone=True), nullable=False),
    Column("last_seen_at", TIMESTAMP(timezone=True), nullable=False),
    Column("resolution", Text),
    Column("resolution_reason", Text),
    Column("resolved_by", Text),
    Column("approved_by", Text),
    Column("resolved_at", TIMESTAMP(timezone=True)),
    Column("entry_id", BigInteger),
    CheckConstraint(in_values("class", BREAK_CLASSES), name="class"),
    CheckConstraint(in_values("status", EXCEPTION_STATUSES), name="status"),
    CheckConstraint("(status = 'open') = (resolved_at IS NULL)", name="resolved_when_closed"),
    Index(None, "status", "report_date"),
)

recon_daily = Table(  # read by analysts, written by each reconciliation
    "recon_daily",
    metadata,
    Column("report_date", Date, primary_key=True),
    Column("class", Text, primary_key=True),
    Column("report_version", Integer, nullable=False),
    Column("items", BigInteger, nullable=False),
    Column("expected_paise", BigInteger, nullable=False),
    Column("reported_paise", BigInteger, nullable=False),
    Column("difference_paise", BigInteger, nullable=False),
    Column("report_total_paise", BigInteger, nullable=False),
    Column("books_total_paise", BigInteger, nullable=False),
    Column("residual_paise", BigInteger, nullable=False),
    Column("refreshed_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    schema="analytics",
)
