"""What the rest of the system needs from a payments gateway and a payouts gateway.

Assets and the API depend on these interfaces, not on PhonePe or RazorpayX, so tests and the demo can
swap in the sandbox by base URL and a future second gateway is one new class. Every amount is integer
paise; every value is a frozen dataclass so results can be logged, compared and cached safely.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from gateways.errors import GatewayError

ORDER_STATES = frozenset({"COMPLETED", "FAILED", "PENDING"})
REFUND_STATES = frozenset({"PENDING", "CONFIRMED", "COMPLETED", "FAILED"})
PAYOUT_STATES = frozenset(
    {"queued", "pending", "scheduled", "processing", "processed", "reversed", "cancelled", "rejected", "failed"}
)
# Money reached the payee; `reversed` can still follow `processed` (the bank returned it).
PAYOUT_SUCCESS_STATES = frozenset({"processed"})
# The payout is over and no money left the account (or it came back).
PAYOUT_FAILED_STATES = frozenset({"reversed", "cancelled", "rejected", "failed"})


@dataclass(frozen=True, slots=True)
class OrderStatus:
    merchant_order_id: str
    state: str
    amount_paise: int
    gateway_order_id: str | None = None
    transaction_id: str | None = None
    payment_mode: str | None = None
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class RefundStatus:
    merchant_refund_id: str
    state: str
    amount_paise: int
    refund_id: str | None = None
    original_merchant_order_id: str | None = None
    timestamp_ms: int | None = None


@dataclass(frozen=True, slots=True)
class SettlementRow:
    """One line of the gateway's settlement report; `line` is its 1-based line in the file (header = 1)."""

    line: int
    payment_type: str
    merchant_reference_id: str
    phonepe_reference_id: str
    payer: str
    instrument: str
    created_at: dt.datetime
    amount_paise: int
    fee_paise: int
    transaction_at: dt.datetime
    settlement_date: dt.date
    bank_reference_no: str
    igst_paise: int
    cgst_paise: int
    sgst_paise: int

    @property
    def settled_paise(self) -> int:
        """What this row adds to (or, for a refund, takes from) the bank transfer."""
        return self.amount_paise + self.fee_paise + self.igst_paise + self.cgst_paise + self.sgst_paise

    @property
    def tax_paise(self) -> int:
        return self.igst_paise + self.cgst_paise + self.sgst_paise


@dataclass(frozen=True, slots=True)
class SettlementReport:
    rows: tuple[SettlementRow, ...]
    report_date: dt.date | None = None

    @property
    def settled_paise(self) -> int:
        return sum(row.settled_paise for row in self.rows)


@dataclass(frozen=True, slots=True)
class VpaDestination:
    address: str


@dataclass(frozen=True, slots=True)
class BankDestination:
    account_number: str
    ifsc: str
    account_name: str


@dataclass(frozen=True, slots=True)
class PayoutRequest:
    """One payout to one payee; `reference_id` is our payout id and finds the payout again."""

    reference_id: str
    amount_paise: int
    destination: VpaDestination | BankDestination
    contact_name: str
    contact_reference_id: str
    mode: str | None = None
    purpose: str = "payout"
    narration: str = ""

    @property
    def effective_mode(self) -> str:
        """UPI for a VPA, IMPS for a bank account, unless a mode was chosen explicitly."""
        if self.mode:
            return self.mode
        return "UPI" if isinstance(self.destination, VpaDestination) else "IMPS"


@dataclass(frozen=True, slots=True)
class Payout:
    gateway_payout_id: str
    reference_id: str | None
    status: str
    amount_paise: int
    mode: str | None = None
    utr: str | None = None
    failure_reason: str | None = None
    created_at_s: int | None = None

    @property
    def succeeded(self) -> bool:
        return self.status in PAYOUT_SUCCESS_STATES

    @property
    def failed(self) -> bool:
        return self.status in PAYOUT_FAILED_STATES

    @property
    def in_flight(self) -> bool:
        return not (self.succeeded or self.failed)


class PaymentsGateway(abc.ABC):
    """Buyer payments: order and refund status, refunds, and the daily settlement report."""

    @abc.abstractmethod
    def order_status(self, merchant_order_id: str) -> OrderStatus: ...

    @abc.abstractmethod
    def order_statuses(
        self, merchant_order_ids: Iterable[str], *, concurrency: int | None = None
    ) -> dict[str, OrderStatus | GatewayError]:
        """Status of many orders at once; a failed lookup is returned as its error, not raised."""

    @abc.abstractmethod
    def create_refund(
        self, merchant_refund_id: str, original_merchant_order_id: str, amount_paise: int
    ) -> RefundStatus: ...

    @abc.abstractmethod
    def refund_status(self, merchant_refund_id: str) -> RefundStatus: ...

    @abc.abstractmethod
    def settlement_report(self, report_date: dt.date) -> SettlementReport: ...


class PayoutsGateway(abc.ABC):
    """Payouts to sellers and scouts."""

    @abc.abstractmethod
    def create_payout(self, idempotency_key: str, request: PayoutRequest) -> Payout: ...

    @abc.abstractmethod
    def fetch_payout(self, gateway_payout_id: str) -> Payout: ...

    @abc.abstractmethod
    def find_payout_by_reference(self, reference_id: str) -> Payout | None:
        """The most recent payout made for `reference_id`: how an unknown outcome is resolved."""
