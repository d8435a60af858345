"""The payments port: what settlement asks the payment gateway before any money moves.

`gateways.phonepe` implements it over the wire; the sandbox speaks the same protocol. Amounts are
integer paise and every value is a frozen dataclass, safe to log, compare and cache.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from domain.platform.gateway_errors import GatewayError

ORDER_STATES = frozenset({"COMPLETED", "FAILED", "PENDING"})


@dataclass(frozen=True, slots=True)
class OrderStatus:
    merchant_order_id: str
    state: str
    amount_paise: int
    gateway_order_id: str | None = None
    transaction_id: str | None = None
    payment_mode: str | None = None
    timestamp_ms: int | None = None


class PaymentStatusGateway(Protocol):
    def order_status(self, merchant_order_id: str) -> OrderStatus: ...

    def order_statuses(
        self, merchant_order_ids: Iterable[str], *, concurrency: int | None = None
    ) -> dict[str, OrderStatus | GatewayError]:
        """Status of many orders at once; a failed lookup is returned as its error, not raised."""
        ...
