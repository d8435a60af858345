"""The payouts port: pay a seller or scout once, find a payout again, and read its webhooks.

`gateways.razorpayx` implements it over the wire; the sandbox speaks the same protocol. Every amount
is integer paise; every value is a frozen dataclass, safe to log, compare and cache.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PAYOUT_STATES = frozenset(
    {"queued", "pending", "scheduled", "processing", "processed", "reversed", "cancelled", "rejected", "failed"}
)


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


@dataclass(frozen=True, slots=True)
class PayoutEvent:
    """A verified payout webhook, deduplicated on `event_id`."""

    event_id: str
    event: str
    gateway_payout_id: str
    reference_id: str | None
    status: str
    amount_paise: int
    utr: str | None
    failure_reason: str | None


class PayoutsGateway(Protocol):
    def create_payout(self, idempotency_key: str, request: PayoutRequest) -> Payout: ...

    def fetch_payout(self, gateway_payout_id: str) -> Payout: ...

    def find_payout_by_reference(self, reference_id: str) -> Payout | None:
        """The most recent payout made for `reference_id`: how an unknown outcome is resolved."""
        ...


class PayoutEventParser(Protocol):
    def __call__(self, raw_body: bytes, event_id: str | None) -> PayoutEvent:
        """The event of a stored webhook body; raises `WebhookRejected` for one it cannot read."""
        ...
