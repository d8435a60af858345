"""The double-entry ledger: postings for every money event, written once, never changed.

Invariants (declared as SQL in `domain.invariants.LEDGER_INVARIANTS`, run by tests and asset checks):

1. The lines of every journal entry sum to zero paise. PostgreSQL enforces it on insert (trigger
   `ledger_lines_balance`), so no code path, ours or a psql session's, can write half an entry.
2. Hence the whole ledger sums to zero.
3. Lines, entries and accounts are append-only: UPDATE, DELETE and TRUNCATE are refused by
   triggers. Corrections are new entries. A line must name an existing entry and account; the same
   statement-level trigger checks that set-based (per-row foreign keys cost a query per line).
4. Every line amount is a non-zero integer number of paise (debit positive, credit negative).
5. Every entry has a unique idempotency key (`capture:<order_id>`, `refund:<refund_id>`,
   `payout:<payout_id>:sent`, ...); posting the same key again writes nothing and returns the first
   entry, also when two transactions race. The same key with different lines is an error, never a
   silent second truth.
6. A balance is the sum of an account's lines; nothing else stores it.

Accounts are named `<type>` or `<type>:<payee_id>` for the payee accounts (`seller_payable`,
`scout_payable`). Payables are liabilities, so a payee's balance is normally negative in the ledger;
`payee_balance` returns it as the positive amount owed to the payee.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import sqlalchemy as sa

from domain.money import FeeBreakdown, RefundSplit
from domain.schema import journal_entries, ledger_accounts, ledger_lines

PayeeType = Literal["seller", "scout"]

GATEWAY_CLEARING = "gateway_clearing"
BANK = "bank"
PAYOUTS_IN_TRANSIT = "payouts_in_transit"
PLATFORM_REVENUE = "platform_revenue"
BOUNTY_EXPENSE = "bounty_expense"
RECON_SUSPENSE = "recon_suspense"


class LedgerError(Exception):
    """A posting that would break a ledger invariant."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was already used for an entry with different lines."""


def payable_account(payee_type: PayeeType, payee_id: str) -> str:
    if payee_type not in ("seller", "scout"):
        raise LedgerError(f"unknown payee type {payee_type!r}")
    if not payee_id or ":" in payee_id:
        raise LedgerError("payee id must be non-empty and contain no ':'")
    return f"{payee_type}_payable:{payee_id}"


def account_type_of(account_id: str) -> str:
    return account_id.split(":", 1)[0]


def payee_of(account_id: str) -> str | None:
    _, _, payee = account_id.partition(":")
    return payee or None


@dataclass(frozen=True, slots=True)
class Line:
    account_id: str
    amount_paise: int


@dataclass(frozen=True, slots=True)
class Entry:
    idempotency_key: str
    entry_type: str
    lines: tuple[Line, ...]
    description: str = ""
    reference_id: str | None = None

    def __post_init__(self) -> None:
        if not self.idempotency_key:
            raise LedgerError("an entry needs an idempotency key")
        if len(self.lines) < 2:
            raise LedgerError("an entry needs at least two lines")
        for line in self.lines:
            if isinstance(line.amount_paise, bool) or not isinstance(line.amount_paise, int):
                raise LedgerError("line amounts are integer paise")
            if line.amount_paise == 0:
                raise LedgerError("line amounts are non-zero")
        if sum(line.amount_paise for line in self.lines) != 0:
            raise LedgerError(f"entry {self.idempotency_key} does not balance")


def _entry(key: str, entry_type: str, lines: Iterable[tuple[str, int]], reference_id: str) -> Entry:
    """Build an entry, dropping zero lines (a 0 bps fee posts nothing)."""
    kept = tuple(Line(account, amount) for account, amount in lines if amount != 0)
    return Entry(key, entry_type, kept, reference_id=reference_id)


def capture_entry(order_id: str, seller_id: str, fees: FeeBreakdown) -> Entry:
    return _entry(
        f"capture:{order_id}",
        "payment_captured",
        [
            (GATEWAY_CLEARING, fees.gross_paise - fees.gateway_fee_paise),
            (payable_account("seller", seller_id), -fees.seller_net_paise),
            (PLATFORM_REVENUE, -fees.platform_fee_paise),
        ],
        order_id,
    )


def bounty_entry(recruit_id: str, scout_id: str, amount_paise: int) -> Entry:
    """One bounty per recruit, ever: the key is the recruit, not the order."""
    return _entry(
        f"bounty:{recruit_id}",
        "bounty_earned",
        [(BOUNTY_EXPENSE, amount_paise), (payable_account("scout", scout_id), -amount_paise)],
        recruit_id,
    )


def payout_sent_entry(payout_id: str, payee_type: PayeeType, payee_id: str, amount_paise: int) -> Entry:
    return _entry(
        f"payout:{payout_id}:sent",
        "payout_sent",
        [(payable_account(payee_type, payee_id), amount_paise), (PAYOUTS_IN_TRANSIT, -amount_paise)],
        payout_id,
    )


def payout_completed_entry(payout_id: str, amount_paise: int) -> Entry:
    return _entry(
        f"payout:{payout_id}:completed",
        "payout_completed",
        [(PAYOUTS_IN_TRANSIT, amount_paise), (BANK, -amount_paise)],
        payout_id,
    )


def payout_failed_entry(payout_id: str, payee_type: PayeeType, payee_id: str, amount_paise: int) -> Entry:
    """The money never left: it goes back from in-transit to the payee's balance."""
    return _entry(
        f"payout:{payout_id}:failed",
        "payout_failed",
        [(PAYOUTS_IN_TRANSIT, amount_paise), (payable_account(payee_type, payee_id), -amount_paise)],
        payout_id,
    )


def payout_cancelled_entry(payout_id: str, payee_type: PayeeType, payee_id: str, amount_paise: int) -> Entry:
    """Finance cancelled a payout before the gateway took it: the money goes back to the payee."""
    return _entry(
        f"payout:{payout_id}:cancelled",
        "payout_cancelled",
        [(PAYOUTS_IN_TRANSIT, amount_paise), (payable_account(payee_type, payee_id), -amount_paise)],
        payout_id,
    )


def payout_reversed_entry(payout_id: str, payee_type: PayeeType, payee_id: str, amount_paise: int) -> Entry:
    """The bank returned a completed payout: the money is ours again and owed to the payee again."""
    return _entry(
        f"payout:{payout_id}:reversed",
        "payout_reversed",
        [(BANK, amount_paise), (payable_account(payee_type, payee_id), -amount_paise)],
        payout_id,
    )


def refund_completed_entry(refund_id: str, seller_id: str, split: RefundSplit) -> Entry:
    return _entry(
        f"refund:{refund_id}",
        "refund_completed",
        [
            (payable_account("seller", seller_id), split.seller_clawback_paise),
            (PLATFORM_REVENUE, split.platform_fee_reversed_paise),
            (GATEWAY_CLEARING, -split.refund_paise),
        ],
        refund_id,
    )


def gateway_settlement_entry(settlement_ref: str, settled_paise: int, expected_paise: int) -> Entry:
    """The gateway paid `settled` into the bank against `expected` in clearing; any gap is suspense."""
    return _entry(
        f"gateway_settlement:{settlement_ref}",
        "gateway_settled",
        [
            (BANK, settled_paise),
            (GATEWAY_CLEARING, -expected_paise),
            (RECON_SUSPENSE, expected_paise - settled_paise),
        ],
        settlement_ref,
    )


@dataclass(frozen=True, slots=True)
class Posted:
    entry_id: int
    created: bool


def ensure_accounts(conn: sa.Connection, account_ids: Iterable[str]) -> None:
    rows = [
        {"account_id": a, "account_type": account_type_of(a), "payee_id": payee_of(a)} for a in sorted(set(account_ids))
    ]
    if rows:
        stmt = sa.dialects.postgresql.insert(ledger_accounts).values(rows).on_conflict_do_nothing()
        conn.execute(stmt)


def _post_statement(line_count: int) -> sa.TextClause:
    """One round trip: create missing accounts, the entry (unless its key exists) and its lines."""
    values = ", ".join(f"(:a{n}, :t{n}, :p{n}, :m{n})" for n in range(line_count))
    return sa.text(
        f"""
        WITH given (account_id, account_type, payee_id, amount_paise) AS (VALUES {values}),
        accounts AS (
            INSERT INTO ledger_accounts (account_id, account_type, payee_id)
            SELECT DISTINCT account_id, account_type, payee_id FROM given
            ON CONFLICT (account_id) DO NOTHING
        ),
        entry AS (
            INSERT INTO journal_entries (idempotency_key, entry_type, description, reference_id)
            VALUES (:key, :entry_type, :description, :reference_id)
            ON CONFLICT (idempotency_key) DO NOTHING
            RETURNING entry_id
        ),
        lines AS (
            INSERT INTO ledger_lines (entry_id, account_id, amount_paise)
            SELECT entry.entry_id, given.account_id, given.amount_paise::bigint FROM entry CROSS JOIN given
        )
        SELECT entry_id FROM entry
        """
    )


def post_entry(conn: sa.Connection, entry: Entry) -> Posted:
    """Write `entry` once. The caller owns the transaction; a replay returns the first entry."""
    params: dict[str, object] = {
        "key": entry.idempotency_key,
        "entry_type": entry.entry_type,
        "description": entry.description,
        "reference_id": entry.reference_id,
    }
    for n, line in enumerate(entry.lines):
        params.update(
            {
                f"a{n}": line.account_id,
                f"t{n}": account_type_of(line.account_id),
                f"p{n}": payee_of(line.account_id),
                f"m{n}": line.amount_paise,
            }
        )
    entry_id = conn.execute(_post_statement(len(entry.lines)), params).scalar()
    if entry_id is not None:
        return Posted(entry_id, created=True)
    existing_id, existing_lines = _existing(conn, entry.idempotency_key)
    if existing_lines != Counter((line.account_id, line.amount_paise) for line in entry.lines):
        raise IdempotencyConflict(f"key {entry.idempotency_key} was posted with different lines")
    return Posted(existing_id, created=False)


def _existing(conn: sa.Connection, key: str) -> tuple[int, Counter[tuple[str, int]]]:
    rows = conn.execute(
        sa.select(journal_entries.c.entry_id, ledger_lines.c.account_id, ledger_lines.c.amount_paise)
        .join(ledger_lines, ledger_lines.c.entry_id == journal_entries.c.entry_id)
        .where(journal_entries.c.idempotency_key == key)
    ).all()
    if not rows:
        raise LedgerError(f"entry {key} exists without lines")
    return rows[0].entry_id, Counter((row.account_id, row.amount_paise) for row in rows)


def account_balance(conn: sa.Connection, account_id: str) -> int:
    total = conn.execute(
        sa.select(sa.func.coalesce(sa.func.sum(ledger_lines.c.amount_paise), 0)).where(
            ledger_lines.c.account_id == account_id
        )
    ).scalar_one()
    return int(total)


def payee_balance(conn: sa.Connection, payee_type: PayeeType, payee_id: str) -> int:
    """What we owe the payee, in paise (positive = owed to them, negative = clawback pending)."""
    return -account_balance(conn, payable_account(payee_type, payee_id))


def balances(conn: sa.Connection) -> dict[str, int]:
    """Every account's balance; for summaries and tests, not hot paths."""
    rows = conn.execute(
        sa.select(ledger_lines.c.account_id, sa.func.sum(ledger_lines.c.amount_paise))
        .group_by(ledger_lines.c.account_id)
        .order_by(ledger_lines.c.account_id)
    ).all()
    return {account: int(total) for account, total in rows}
