"""The double-entry ledger: the entries every money event posts, built once, never changed.

Invariants (declared as SQL in `domain.ledger.invariants`, run by tests and asset checks):

1. The lines of every journal entry sum to zero paise. PostgreSQL enforces it on insert (trigger
   `ledger_lines_balance`), so no code path, ours or a psql session's, can write half an entry.
2. Hence the whole ledger sums to zero.
3. Lines, entries and accounts are append-only: UPDATE, DELETE and TRUNCATE are refused by
   triggers. Corrections are new entries. A line must name an existing entry and account; the same
   statement-level trigger checks that set-based (per-row foreign keys cost a query per line).
4. Every line amount is a non-zero integer number of paise (debit positive, credit negative).
5. Every entry has a unique idempotency key (`domain.ledger.accounts.entry_key`); posting the same
   key again writes nothing and returns the first entry, also when two transactions race. The same
   key with different lines is an error, never a silent second truth.
6. A balance is the sum of an account's lines.

Payables are liabilities, so a payee's balance is normally negative in the ledger;
`domain.ledger.posting.payee_balance` returns it as the positive amount owed to the payee.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from domain.ledger.accounts import (
    BANK,
    BOUNTY_EXPENSE,
    GATEWAY_CLEARING,
    GST_INPUT_CREDIT,
    PAYOUTS_IN_TRANSIT,
    PLATFORM_REVENUE,
    RECON_SUSPENSE,
    LedgerError,
    PayeeType,
    entry_key,
    payable_account,
)
from domain.money import FeeBreakdown, RefundSplit


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
        entry_key("capture", order_id),
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
        entry_key("bounty", recruit_id),
        "bounty_earned",
        [(BOUNTY_EXPENSE, amount_paise), (payable_account("scout", scout_id), -amount_paise)],
        recruit_id,
    )


def payout_sent_entry(payout_id: str, payee_type: PayeeType, payee_id: str, amount_paise: int) -> Entry:
    return _entry(
        entry_key("payout", payout_id, "sent"),
        "payout_sent",
        [(payable_account(payee_type, payee_id), amount_paise), (PAYOUTS_IN_TRANSIT, -amount_paise)],
        payout_id,
    )


def payout_completed_entry(payout_id: str, amount_paise: int) -> Entry:
    return _entry(
        entry_key("payout", payout_id, "completed"),
        "payout_completed",
        [(PAYOUTS_IN_TRANSIT, amount_paise), (BANK, -amount_paise)],
        payout_id,
    )


def payout_failed_entry(payout_id: str, payee_type: PayeeType, payee_id: str, amount_paise: int) -> Entry:
    """The money never left: it goes back from in-transit to the payee's balance."""
    return _entry(
        entry_key("payout", payout_id, "failed"),
        "payout_failed",
        [(PAYOUTS_IN_TRANSIT, amount_paise), (payable_account(payee_type, payee_id), -amount_paise)],
        payout_id,
    )


def payout_cancelled_entry(payout_id: str, payee_type: PayeeType, payee_id: str, amount_paise: int) -> Entry:
    """Finance cancelled a payout before the gateway took it: the money goes back to the payee."""
    return _entry(
        entry_key("payout", payout_id, "cancelled"),
        "payout_cancelled",
        [(PAYOUTS_IN_TRANSIT, amount_paise), (payable_account(payee_type, payee_id), -amount_paise)],
        payout_id,
    )


def payout_reversed_entry(payout_id: str, payee_type: PayeeType, payee_id: str, amount_paise: int) -> Entry:
    """The bank returned a completed payout: the money is ours again and owed to the payee again."""
    return _entry(
        entry_key("payout", payout_id, "reversed"),
        "payout_reversed",
        [(BANK, amount_paise), (payable_account(payee_type, payee_id), -amount_paise)],
        payout_id,
    )


def refund_completed_entry(refund_id: str, seller_id: str, split: RefundSplit) -> Entry:
    """The buyer has the money back: the seller gives back their part, the platform its fee share."""
    return _entry(
        entry_key("refund", refund_id),
        "refund_completed",
        [
            (payable_account("seller", seller_id), split.seller_clawback_paise),
            (PLATFORM_REVENUE, split.platform_fee_reversed_paise),
            (GATEWAY_CLEARING, -split.refund_paise),
        ],
        refund_id,
    )


def stray_payment_entry(order_id: str, amount_paise: int, gateway_fee_paise: int) -> Entry:
    """The gateway took a payment for an order that can no longer be paid: the gateway owes it to us
    less its fee, which the platform bears, and it is the buyer's money until refunded (suspense)."""
    return _entry(
        entry_key("stray_payment", order_id),
        "stray_payment_received",
        [
            (GATEWAY_CLEARING, amount_paise - gateway_fee_paise),
            (PLATFORM_REVENUE, gateway_fee_paise),
            (RECON_SUSPENSE, -amount_paise),
        ],
        order_id,
    )


def stray_refund_completed_entry(refund_id: str, amount_paise: int) -> Entry:
    """The stray payment went back to the buyer: the suspense is cleared."""
    return _entry(
        entry_key("refund", refund_id),
        "refund_completed",
        [(RECON_SUSPENSE, amount_paise), (GATEWAY_CLEARING, -amount_paise)],
        refund_id,
    )


def gateway_settlement_entry(utr: str, transfer_paise: int, clearing_paise: int, gst_paise: int) -> Entry:
    """The bank received `transfer` for a settlement batch against `clearing` held for its known rows,
    less the GST the gateway charged on its fees (the platform's input tax credit); any gap is suspense
    until the batch's breaks are resolved."""
    return _entry(
        entry_key("gateway_settlement", utr),
        "gateway_settled",
        [
            (BANK, transfer_paise),
            (GATEWAY_CLEARING, -clearing_paise),
            (GST_INPUT_CREDIT, gst_paise),
            (RECON_SUSPENSE, clearing_paise - gst_paise - transfer_paise),
        ],
        utr,
    )


def recon_resolution_entry(exception_id: str, klass: str, expected_paise: int, reported_paise: int) -> Entry:
    """Finance accepted or wrote off a break: platform revenue takes the difference. The per-UTR cash
    posting put it in suspense; a missing_in_report break is money booked in clearing the gateway
    never paid, so that is cleared instead."""
    offset = GATEWAY_CLEARING if klass == "missing_in_report" else RECON_SUSPENSE
    return _entry(
        entry_key("recon_resolution", exception_id),
        "recon_resolved",
        [(PLATFORM_REVENUE, expected_paise - reported_paise), (offset, reported_paise - expected_paise)],
        exception_id,
    )
