"""Refund rules: the lifecycle, the policy a request must pass, when finance must approve, and what a
gateway answer means.

Lifecycle (DESIGN.md §5): `requested -> approved | rejected`, `approved -> submitted -> completed |
failed`, and `approved -> failed` when the gateway refuses the create or the attempts run out. A
failed refund is never sent again: finance retries it as a new refund, once the gateway has said
FAILED. Money moves only at `completed` (DESIGN.md §4).

Refundable = what the buyer paid - completed refunds - refunds in flight. A refund is in flight
from its request until it is rejected or fails, so requests waiting for approval hold their amount
too: two approvals can never together exceed the order.

Pure functions only: no database, no gateway, no clock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, Literal

from domain.platform.errors import DomainError

RefundStatus = Literal["requested", "approved", "rejected", "submitted", "completed", "failed"]
REFUND_STATUSES: Final = ("requested", "approved", "rejected", "submitted", "completed", "failed")

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "requested": frozenset({"approved", "rejected"}),
    "approved": frozenset({"submitted", "completed", "failed"}),
    "submitted": frozenset({"completed", "failed"}),
    "rejected": frozenset(),
    "completed": frozenset(),
    "failed": frozenset(),
}
IN_FLIGHT: Final = frozenset({"requested", "approved", "submitted"})
"""Statuses whose amount is held against the order's refundable amount."""

REASONS: Final = (
    "customer_request",
    "item_not_received",
    "item_damaged",
    "item_not_as_described",
    "wrong_item",
    "duplicate_payment",
    "order_cancelled",
    "other",
)
"""Reason codes a client may give (docs/refunds.md)."""

AUTOMATIC_REASONS: Final = ("paid_after_cancellation", "paid_after_failure")
"""Reasons only the system gives: a payment that arrived for an order that can no longer be paid."""

RefundKind = Literal["order", "stray"]
"""`order`: a refund of a captured order's payment. `stray`: a payment that arrived for a cancelled
or failed order, returned in full; the seller is not involved."""

# PhonePe refund states (DESIGN.md §6).
GATEWAY_STATES: Final = frozenset({"PENDING", "CONFIRMED", "COMPLETED", "FAILED"})
GATEWAY_IN_PROGRESS: Final = frozenset({"PENDING", "CONFIRMED"})

ApprovalReason = Literal["above_threshold", "order_settled", "order_paid_out", "seller_in_clawback"]


class RefundRuleError(DomainError):
    """A refund request or change the rules refuse."""

    codes = frozenset(
        {
            "order_not_found",
            "refund_not_found",
            "refund_order_not_paid",
            "refund_amount_not_positive",
            "refund_below_minimum",
            "refund_exceeds_refundable",
            "refund_window_closed",
            "refund_limit_reached",
            "refund_not_awaiting_approval",
            "refund_not_retryable",
            "refund_already_retried",
            "idempotency_conflict",
        }
    )


@dataclass(frozen=True, slots=True)
class RefundPolicy:
    min_paise: int
    window_days: int
    max_per_order: int
    approval_threshold_paise: int


@dataclass(frozen=True, slots=True)
class OrderFacts:
    """What the policy needs to know about an order, read under its row lock."""

    status: str
    amount_paise: int
    paid_at: dt.datetime | None
    refunded_paise: int
    in_flight_paise: int
    live_refunds: int
    settled: bool
    paid_out: bool
    seller_in_clawback: bool

    @property
    def refundable_paise(self) -> int:
        return self.amount_paise - self.refunded_paise - self.in_flight_paise


REFUNDABLE_ORDER_STATUSES: Final = frozenset({"paid", "delivered"})


def refusal(policy: RefundPolicy, order: OrderFacts, amount_paise: int, now: dt.datetime) -> RefundRuleError | None:
    """Why a refund of `amount_paise` cannot be requested now, or None if it can."""
    if order.status not in REFUNDABLE_ORDER_STATUSES or order.paid_at is None:
        return RefundRuleError(
            "refund_order_not_paid", f"Only a paid order can be refunded; this one is {order.status}."
        )
    if amount_paise <= 0:
        return RefundRuleError("refund_amount_not_positive", "amount_paise must be a positive number of paise.")
    if amount_paise < policy.min_paise:
        return RefundRuleError("refund_below_minimum", f"The gateway refunds at least {policy.min_paise} paise.")
    if amount_paise > order.refundable_paise:
        return RefundRuleError(
            "refund_exceeds_refundable",
            f"At most {max(order.refundable_paise, 0)} paise of this order can still be refunded.",
        )
    if now > order.paid_at + dt.timedelta(days=policy.window_days):
        return RefundRuleError(
            "refund_window_closed", f"Refunds are accepted up to {policy.window_days} days after the payment."
        )
    if order.live_refunds >= policy.max_per_order:
        return RefundRuleError("refund_limit_reached", f"An order can have at most {policy.max_per_order} refunds.")
    return None


def approval_reasons(policy: RefundPolicy, order: OrderFacts, amount_paise: int) -> tuple[ApprovalReason, ...]:
    """Why finance must approve this refund before it is sent; empty when it may go at once."""
    reasons: list[ApprovalReason] = []
    if amount_paise > policy.approval_threshold_paise:
        reasons.append("above_threshold")
    if order.settled:
        reasons.append("order_settled")
    if order.paid_out:
        reasons.append("order_paid_out")
    if order.seller_in_clawback:
        reasons.append("seller_in_clawback")
    return tuple(reasons)


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def target_for_gateway_state(state: str) -> str | None:
    """Our status for a PhonePe refund state: None while the gateway is still working on it."""
    if state == "COMPLETED":
        return "completed"
    if state == "FAILED":
        return "failed"
    return None
