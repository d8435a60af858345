"""Statements from PostgreSQL: the payee, and its statement from one query (`sql/statements/lines.sql`)
that every format is made from. Reads only; the caller owns the transaction.

The query reads the payee's own ledger lines (its opening balance sums those before the period), and
the subledger rows behind the period's entries through their indexes: the cost follows the payee's
history, never the ledger's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import structlog

from domain.ledger.accounts import PayeeType, payable_account
from domain.platform.sql import statement
from domain.statements import rules
from domain.statements.rules import Line, PayoutItem, Statement, StatementError, StatementUnreconciled
from domain.users.tables import users

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Payee:
    payee_id: str
    payee_type: PayeeType
    name: str


def payee(conn: sa.Connection, payee_id: str) -> Payee:
    """A seller or scout; an unknown user is `user_not_found`, a buyer `not_a_payee`."""
    row = conn.execute(sa.select(users.c.role, users.c.name).where(users.c.user_id == payee_id)).first()
    if row is None:
        raise StatementError("user_not_found", "No such user.")
    if row.role not in ("seller", "scout"):
        raise StatementError("not_a_payee", f"Only sellers and scouts have statements; this user is a {row.role}.")
    return Payee(payee_id, row.role, row.name)


def payee_statement(
    conn: sa.Connection,
    payee_id: str,
    from_date: dt.date,
    to_date: dt.date,
    *,
    now: dt.datetime,
    max_lines: int = rules.MAX_LINES,
) -> Statement:
    """The payee's statement over IST days [from_date, to_date], as of `now` (when it is made)."""
    wanted = rules.period(from_date, to_date)
    who = payee(conn, payee_id)
    account_id = payable_account(who.payee_type, payee_id)
    params = {
        "account_id": account_id,
        "payee_id": payee_id,
        "period_start": wanted.start,
        "period_end": wanted.end,
        "max_rows": max_lines + 1,
    }
    rows = conn.execute(statement("statements/lines"), params).all()
    lines = tuple(_line(number, row._mapping) for number, row in enumerate(rows, 1) if row.entry_id is not None)
    if len(lines) > max_lines:
        raise StatementError(
            "statement_too_large", f"The period has more than {max_lines} lines; ask for a shorter one."
        )
    opening, closing = int(rows[0].opening_paise), int(rows[0].closing_paise)
    try:
        rules.reconcile(opening, lines, closing)
    except StatementUnreconciled as exc:
        log.error("statement_unreconciled", payee_id=payee_id, from_date=str(from_date), to_date=str(to_date),
                  problem=str(exc))  # fmt: skip
        raise
    return Statement(who.payee_id, who.payee_type, who.name, account_id, wanted, opening, closing, lines, now)


_OPTIONAL = tuple(field.name for field in dataclasses.fields(Line) if field.default is None)
"""The line's source ids and figures a kind may not have, read from the row as they are."""


def _line(number: int, row: sa.RowMapping) -> Line:
    return Line(
        line_no=number,
        entry_date=row["entry_date"],
        kind=row["kind"],
        entry_id=int(row["entry_id"]),
        entry_key=row["entry_key"],
        amount_paise=int(row["amount_paise"]),
        balance_paise=int(row["balance_paise"]),
        items=tuple(_item(item) for item in row["items"] or ()),
        **{name: row[name] for name in _OPTIONAL},
    )


def _item(item: Mapping[str, Any]) -> PayoutItem:
    return PayoutItem(
        payee_item_id=int(item["payee_item_id"]),
        item_key=item["item_key"],
        item_type=item["item_type"],
        item_date=dt.date.fromisoformat(item["item_date"]),
        amount_paise=int(item["amount_paise"]),
        refund_id=item["refund_id"],
        bounty_id=item["bounty_id"],
    )
