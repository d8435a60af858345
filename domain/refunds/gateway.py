"""The refunds port: create a refund once, and ask for its state by our own refund id.

A create call moves money: an unknown outcome is resolved with `refund_status`, never by a second
create. `gateways.phonepe` implements it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

REFUND_STATES = frozenset({"PENDING", "CONFIRMED", "COMPLETED", "FAILED"})


@dataclass(frozen=True, slots=True)
class RefundStatus:
    merchant_refund_id: str
    state: str
    amount_paise: int
    refund_id: str | None = None
    original_merchant_order_id: str | None = None
    timestamp_ms: int | None = None


class RefundsGateway(Protocol):
    def create_refund(
        self, merchant_refund_id: str, original_merchant_order_id: str, amount_paise: int
    ) -> RefundStatus: ...

    def refund_status(self, merchant_refund_id: str) -> RefundStatus: ...


@dataclass(frozen=True, slots=True)
class RefundEvent:
    """What a stored refund webhook says: a claim to be checked with `refund_status`, never applied as is."""

    event: str
    merchant_refund_id: str
    state: str
    amount_paise: int


class RefundEventParser(Protocol):
    def __call__(self, raw_body: bytes) -> RefundEvent:
        """The refund event of a stored webhook body; raises `WebhookRejected` for one it cannot read."""
        ...
