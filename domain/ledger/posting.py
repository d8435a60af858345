"""The one posting path, and balances.

Every writer runs `sql/ledger/post.sql`, which writes accounts, entries and lines in one statement.
A set-based writer first stages the lines of its entries in `pending_postings` with `INSERT ...
SELECT` (an entry may sum many subledger rows); `post_entry` runs the same statement on one entry's
lines passed as arrays (`sql/ledger/entry_lines.sql`), one round trip. The caller owns the transaction.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from domain.ledger.accounts import LedgerError, PayeeType, payable_account
from domain.ledger.entries import Entry
from domain.ledger.tables import journal_entries, ledger_lines
from domain.platform.sql import statement


class IdempotencyConflict(LedgerError):
    """The idempotency key was already used for an entry with different lines."""


@dataclass(frozen=True, slots=True)
class Posted:
    entry_id: int
    created: bool


def prepare(conn: sa.Connection) -> None:
    """Make sure this session has its staging table (a no-op once it has)."""
    conn.execute(statement("ledger/stage"))


def post_staged(conn: sa.Connection) -> dict[str, Posted]:
    """Post everything staged in this transaction; by idempotency key, the entry and whether it is new."""
    return _posted(conn, conn.execute(statement("ledger/post")))


def _posted(conn: sa.Connection, rows: Iterable[Any]) -> dict[str, Posted]:
    posted: dict[str, Posted] = {}
    missing: list[str] = []
    for key, entry_id, created in rows:
        if entry_id is None:  # committed by a concurrent writer after this statement's snapshot
            missing.append(key)
        else:
            posted[key] = Posted(int(entry_id), bool(created))
    if missing:
        found = conn.execute(
            sa.select(journal_entries.c.idempotency_key, journal_entries.c.entry_id).where(
                journal_entries.c.idempotency_key.in_(missing)
            )
        )
        posted.update({key: Posted(int(entry_id), False) for key, entry_id in found})
    return posted


def _post_entry_statement() -> sa.TextClause:
    """ledger/post.sql with its `staged` rows read from the entry's own lines, not the staging table."""
    post, from_staging = statement("ledger/post").text, "DELETE FROM pending_postings RETURNING *"
    if post.count(from_staging) != 1:
        raise LedgerError("ledger/post.sql must read its staged rows from pending_postings exactly once")
    return sa.text(post.replace(from_staging, statement("ledger/entry_lines").text.strip()))


_POST_ENTRY = _post_entry_statement()


def post_entry(conn: sa.Connection, entry: Entry) -> Posted:
    """Write `entry` once, in one statement. A replay returns the first entry; the same key with other
    lines is refused."""
    count = len(entry.lines)
    params = {
        "keys": [entry.idempotency_key] * count,
        "entry_types": [entry.entry_type] * count,
        "descriptions": [entry.description] * count,
        "occurred_ats": [None] * count,
        "reference_ids": [entry.reference_id] * count,
        "account_ids": [line.account_id for line in entry.lines],
        "amounts": [line.amount_paise for line in entry.lines],
    }
    posted = _posted(conn, conn.execute(_POST_ENTRY, params))[entry.idempotency_key]
    if not posted.created and _lines_of(conn, posted.entry_id) != _counted(entry):
        raise IdempotencyConflict(f"key {entry.idempotency_key} was posted with different lines")
    return posted


def _counted(entry: Entry) -> Counter[tuple[str, int]]:
    return Counter((line.account_id, line.amount_paise) for line in entry.lines)


def _lines_of(conn: sa.Connection, entry_id: int) -> Counter[tuple[str, int]]:
    rows = conn.execute(
        sa.select(ledger_lines.c.account_id, ledger_lines.c.amount_paise).where(ledger_lines.c.entry_id == entry_id)
    )
    return Counter((account, int(amount)) for account, amount in rows)


def account_balance(conn: sa.Connection, account_id: str) -> int:
    """The latest closing balance plus the lines since (`domain.ledger.closing`): never the history."""
    return int(conn.execute(statement("ledger/account_balance"), {"account_id": account_id}).scalar_one())


def payee_balance(conn: sa.Connection, payee_type: PayeeType, payee_id: str) -> int:
    """What we owe the payee, in paise (positive = owed to them, negative = clawback pending)."""
    return -account_balance(conn, payable_account(payee_type, payee_id))


def balances(conn: sa.Connection) -> Mapping[str, int]:
    """Every account's balance; for summaries and tests, not hot paths."""
    rows = conn.execute(
        sa.select(ledger_lines.c.account_id, sa.func.sum(ledger_lines.c.amount_paise))
        .group_by(ledger_lines.c.account_id)
        .order_by(ledger_lines.c.account_id)
    ).all()
    return {account: int(total) for account, total in rows}
