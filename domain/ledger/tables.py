"""The general ledger: accounts, journal entries and their lines (append-only, enforced by triggers),
its closes (per close, the balance of every account that moved since the previous one, and the totals
per account type), and the audits of the whole ledger, each resuming where the last one stopped."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Column, Date, ForeignKey, Index, Table, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, TIMESTAMP

from domain.ledger.accounts import ACCOUNT_TYPES
from domain.platform.tables import created_at_column, in_values, metadata

ledger_accounts = Table(
    "ledger_accounts",
    metadata,
    Column("account_id", Text, primary_key=True),
    Column("account_type", Text, nullable=False),
    Column("payee_id", Text),
    created_at_column(),
    CheckConstraint(in_values("account_type", ACCOUNT_TYPES), name="account_type"),
    CheckConstraint(
        "(account_type IN ('seller_payable', 'scout_payable')) = (payee_id IS NOT NULL)",
        name="payee_accounts_name_a_payee",
    ),
    Index(None, "payee_id"),
)

journal_entries = Table(
    "journal_entries",
    metadata,
    Column("entry_id", BigInteger, primary_key=True, autoincrement=True),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("entry_type", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("occurred_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    created_at_column(),
    Column("reference_id", Text),
    Index(None, "entry_type", "occurred_at"),
    Index(None, "reference_id"),
)

ledger_lines = Table(
    "ledger_lines",
    metadata,
    Column("line_id", BigInteger, primary_key=True, autoincrement=True),
    # References to journal_entries and ledger_accounts are checked once per statement by the trigger
    # ledger_lines_balance (set-based) instead of by per-row foreign keys, which cost a query per line.
    Column("entry_id", BigInteger, nullable=False),
    Column("account_id", Text, nullable=False),
    Column("amount_paise", BigInteger, nullable=False),
    CheckConstraint("amount_paise <> 0", name="amount_paise_nonzero"),
    Index(None, "entry_id"),
    Index(None, "account_id", "entry_id"),
)

ledger_closes = Table(
    "ledger_closes",
    metadata,
    Column("close_id", BigInteger, primary_key=True, autoincrement=True),
    Column("close_date", Date, nullable=False),
    Column("through_entry_id", BigInteger, nullable=False),
    Column("closed_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
    Index(None, "close_date"),
)

closing_balances = Table(
    "closing_balances",
    metadata,
    Column("account_id", Text, primary_key=True),
    Column("close_id", BigInteger, ForeignKey("ledger_closes.close_id"), primary_key=True),
    Column("movement_paise", BigInteger, nullable=False),
    Column("balance_paise", BigInteger, nullable=False),
)

closing_totals = Table(
    "closing_totals",
    metadata,
    Column("close_id", BigInteger, ForeignKey("ledger_closes.close_id"), primary_key=True),
    Column("account_type", Text, primary_key=True),
    Column("movement_paise", BigInteger, nullable=False),
    Column("balance_paise", BigInteger, nullable=False),
)

ledger_audits = Table(
    "ledger_audits",
    metadata,
    Column("audit_id", BigInteger, primary_key=True, autoincrement=True),
    Column("from_entry_id", BigInteger, nullable=False),
    Column("through_entry_id", BigInteger, nullable=False),
    Column("passed", Boolean, nullable=False),
    Column("problems", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("audited_at", TIMESTAMP(timezone=True), nullable=False, server_default=func.now()),
)
