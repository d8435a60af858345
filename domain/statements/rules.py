"""Statement rules: the period a statement may cover, its kinds of line, its totals and the one check
that it reconciles. Pure: no database, no clock.

A statement is a payee's payable account in the ledger over IST days [from, to]: the balance before
`from` (opening), one line per movement in the period, traced through the subledger to its order,
refund, bounty or payout, and the balance at the end of `to` (closing), so that opening + the lines =
closing, always, and closing is the ledger's balance of the account at that instant. Amounts are what
the platform owes the payee (the account's lines with their sign reversed): positive lines add to it,
negative ones take from it, and a negative balance is a clawback the payee's next sales will net.

Kinds of line:

- `order`: a captured order (gross, platform fee, gateway fee; the amount is the seller's net). The
  ledger posts a seller's captures once per day (`capture:<day>:<seller>`); the day's order lines add
  up to that entry's line.
- `refund`: a completed refund (its amount, the platform fee reversed; the amount is what the seller
  gives back); `clawback` when the order's earnings had already gone out in a payout.
- `bounty`: a scout's bounty (its recruit and the order that earned it).
- `payout`: money sent (its status now, UTR and the payee items it covers); `payout_failed`,
  `payout_cancelled`, `payout_reversed`: that money coming back.
- `adjustment`: any other movement of the account, by its entry, so nothing is ever left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from domain.platform.clock import Day
from domain.platform.errors import DomainError

LineKind = Literal[
    "order",
    "refund",
    "clawback",
    "bounty",
    "payout",
    "payout_failed",
    "payout_cancelled",
    "payout_reversed",
    "adjustment",
]
LINE_KINDS: Final[tuple[LineKind, ...]] = (
    "order",
    "refund",
    "clawback",
    "bounty",
    "payout",
    "payout_failed",
    "payout_cancelled",
    "payout_reversed",
    "adjustment",
)
MAX_DAYS: Final = 366
"""The longest period, in days counting both ends: a leap year."""
MAX_LINES: Final = 50_000
"""The most lines one statement carries; a longer one is asked for in shorter periods."""
EARLIEST_DATE: Final = dt.date(2000, 1, 1)
LATEST_DATE: Final = dt.date(2999, 12, 31)


class StatementError(DomainError):
    """A statement that cannot be made as asked."""

    codes = frozenset(
        {
            "user_not_found",
            "not_a_payee",
            "statement_period_invalid",
            "statement_period_too_long",
            "statement_too_large",
        }
    )


class StatementUnreconciled(RuntimeError):
    """The lines do not add up to the ledger's movement: the subledger disagrees with the ledger, which the
    nightly control totals refuse; never shown to a payee as if it were a statement."""


@dataclass(frozen=True, slots=True)
class Period:
    from_date: dt.date
    to_date: dt.date

    @property
    def start(self) -> dt.datetime:
        return Day.of(self.from_date).start

    @property
    def end(self) -> dt.datetime:
        return Day.of(self.to_date).end


def period(from_date: dt.date, to_date: dt.date) -> Period:
    """The IST days [from_date, to_date], both ends included, or why not."""
    for value in (from_date, to_date):
        if not EARLIEST_DATE <= value <= LATEST_DATE:
            raise StatementError(
                "statement_period_invalid", f"Dates must lie between {EARLIEST_DATE} and {LATEST_DATE}."
            )
    if from_date > to_date:
        raise StatementError("statement_period_invalid", "`from` must not be after `to`.")
    days = (to_date - from_date).days + 1
    if days > MAX_DAYS:
        raise StatementError(
            "statement_period_too_long", f"A statement covers at most {MAX_DAYS} days; this asks for {days}."
        )
    return Period(from_date, to_date)


@dataclass(frozen=True, slots=True)
class PayoutItem:
    """What a payout covers of one payee item (a settlement group, bounty, clawback or adjustment)."""

    payee_item_id: int
    item_key: str
    item_type: str
    item_date: dt.date
    amount_paise: int
    refund_id: str | None
    bounty_id: int | None


@dataclass(frozen=True, slots=True)
class Line:
    line_no: int
    entry_date: dt.date
    kind: LineKind
    entry_id: int
    entry_key: str
    amount_paise: int
    balance_paise: int
    order_id: str | None = None
    refund_id: str | None = None
    payout_id: str | None = None
    bounty_id: int | None = None
    recruit_id: str | None = None
    gross_paise: int | None = None
    platform_fee_paise: int | None = None
    gateway_fee_paise: int | None = None
    refund_paise: int | None = None
    platform_fee_reversed_paise: int | None = None
    payout_status: str | None = None
    utr: str | None = None
    retry_of_payout_id: str | None = None
    items: tuple[PayoutItem, ...] = ()


@dataclass(frozen=True, slots=True)
class KindTotal:
    kind: LineKind
    lines: int
    amount_paise: int


@dataclass(frozen=True, slots=True)
class Totals:
    by_kind: tuple[KindTotal, ...]
    """Every kind, in the order of LINE_KINDS, with zero lines where the period has none."""
    gross_paise: int
    platform_fee_paise: int
    gateway_fee_paise: int
    """Of the order lines."""
    refund_paise: int
    platform_fee_reversed_paise: int
    """Of the refund and clawback lines."""
    movement_paise: int
    """The sum of every line: closing - opening."""


@dataclass(frozen=True, slots=True)
class Statement:
    payee_id: str
    payee_type: str
    payee_name: str
    account_id: str
    period: Period
    opening_paise: int
    closing_paise: int
    lines: tuple[Line, ...]
    generated_at: dt.datetime
    totals: Totals = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "totals", totals(self.lines))


def _sum(values: Sequence[Any]) -> int:
    return sum(int(value or 0) for value in values)


def totals(lines: Sequence[Line]) -> Totals:
    by_kind = []
    for kind in LINE_KINDS:
        of_kind = [line.amount_paise for line in lines if line.kind == kind]
        by_kind.append(KindTotal(kind, len(of_kind), _sum(of_kind)))
    orders = [line for line in lines if line.kind == "order"]
    refunds = [line for line in lines if line.kind in ("refund", "clawback")]
    return Totals(
        by_kind=tuple(by_kind),
        gross_paise=_sum([line.gross_paise for line in orders]),
        platform_fee_paise=_sum([line.platform_fee_paise for line in orders]),
        gateway_fee_paise=_sum([line.gateway_fee_paise for line in orders]),
        refund_paise=_sum([line.refund_paise for line in refunds]),
        platform_fee_reversed_paise=_sum([line.platform_fee_reversed_paise for line in refunds]),
        movement_paise=_sum([line.amount_paise for line in lines]),
    )


def reconcile(opening_paise: int, lines: Sequence[Line], closing_paise: int) -> None:
    """Opening plus the lines is the closing the ledger says."""
    reached = opening_paise + _sum([line.amount_paise for line in lines])
    if reached != closing_paise:
        raise StatementUnreconciled(f"opening {opening_paise} + lines = {reached}; the ledger says {closing_paise}")
