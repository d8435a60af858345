"""THE catalogue of notification events: one builder per event type, naming its recipients and
building its one payload shape.

Every outbox row the system writes, from Python or from set-based SQL, is one of these events;
`domain.outbox.outbox` refuses anything else at write time. An event goes to a user (`audience`
`user`, with `user_id`) or to finance (`audience` `finance`, no user). `category` is what a user's
notification preferences choose by; a `critical` event cannot be switched off.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, TypedDict, get_type_hints

Audience = Literal["user", "finance"]
Category = Literal["payments", "orders", "payouts", "refunds", "referrals", "statements", "alerts"]


class PaymentOutcome(TypedDict):
    order_id: str
    amount_paise: int


class OrderStatusChange(TypedDict):
    order_id: str
    previous_status: str
    status: str


class PaymentAnomaly(TypedDict):
    webhook_event_id: int
    order_id: str | None
    reason: str


class PaymentUnconfirmed(TypedDict):
    """A payment the status API will not confirm: `reason` is `amount_mismatch`, `gateway_state_failed`
    (our side recorded it paid) or `expired` (no final answer within PAYMENT_CONFIRMATION_MAX_AGE_H)."""

    order_id: str
    amount_paise: int
    reason: str
    gateway_state: str | None
    gateway_amount_paise: int | None
    attempts: int


class BountyEarned(TypedDict):
    recruit_id: str
    order_id: str
    amount_paise: int


class PayoutRequested(TypedDict):
    scout_payout_request_id: str
    amount_paise: int


class PayoutChange(TypedDict):
    payout_id: str
    payee_type: str
    payee_id: str
    amount_paise: int
    status: str
    failure_reason: str | None


class SettlementStatement(TypedDict):
    """A seller's day: the orders that became payable and what they earned, the refunds completed and
    what the seller gave back for them, the day's payout, and the balance left open after it (negative
    while a clawback waits to be netted from later sales)."""

    settlement_date: str
    statement_id: str
    orders: int
    gross_paise: int
    platform_fee_paise: int
    gateway_fee_paise: int
    net_paise: int
    refunds: int
    refund_paise: int
    clawback_paise: int
    payout_id: str | None
    payout_paise: int
    balance_paise: int


class RefundChange(TypedDict):
    """A refund reached `status`; `failure_reason` is set when it failed."""

    refund_id: str
    order_id: str
    amount_paise: int
    status: str
    reason: str
    failure_reason: str | None


class RefundApprovalNeeded(TypedDict):
    refund_id: str
    order_id: str
    amount_paise: int
    approval_reasons: list[str]


class RefundCompleted(TypedDict):
    """The buyer has the money back; the seller's balance carries `seller_debit_paise`."""

    refund_id: str
    order_id: str
    amount_paise: int
    platform_fee_reversed_paise: int
    seller_debit_paise: int


class RefundStuck(TypedDict):
    refund_id: str
    order_id: str
    amount_paise: int
    gateway_state: str | None
    submitted_at: str


class StrayPayment(TypedDict):
    """A payment the gateway completed for an order that can no longer be paid, refunded in full."""

    order_id: str
    order_status: str
    amount_paise: int
    refund_id: str


class ReconBreaksFound(TypedDict):
    """A reconciliation of a day's report opened new breaks: how many, of which classes, how much."""

    report_date: str
    report_id: int
    version: int
    new_exceptions: int
    classes: dict[str, int]
    difference_paise: int


class LedgerAuditFailed(TypedDict):
    audit_id: int
    from_entry_id: int
    through_entry_id: int
    problems: list[str]


class NotificationUndelivered(TypedDict):
    """A delivery that ran out of attempts, or that its channel refused for good."""

    delivery_id: int
    notification_id: int
    event_type: str
    recipient: str
    channel: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class EventType:
    name: str
    category: Category
    audiences: frozenset[Audience]
    payload: type
    critical: bool = False

    @property
    def payload_keys(self) -> frozenset[str]:
        return frozenset(get_type_hints(self.payload))


_USER: frozenset[Audience] = frozenset({"user"})
_FINANCE: frozenset[Audience] = frozenset({"finance"})
_BOTH: frozenset[Audience] = frozenset({"user", "finance"})

CATALOGUE: dict[str, EventType] = {
    event.name: event
    for event in (
        EventType("payment_succeeded", "payments", _USER, PaymentOutcome),
        EventType("payment_failed", "payments", _USER, PaymentOutcome),
        EventType("order_status_changed", "orders", _USER, OrderStatusChange),
        EventType("payment_anomaly", "alerts", _FINANCE, PaymentAnomaly, critical=True),
        EventType("payment_unconfirmed", "alerts", _FINANCE, PaymentUnconfirmed, critical=True),
        EventType("scout_bounty_earned", "referrals", _USER, BountyEarned),
        EventType("payout_requested", "payouts", _USER, PayoutRequested),
        EventType("payout_completed", "payouts", _USER, PayoutChange),
        EventType("payout_cancelled", "payouts", _USER, PayoutChange),
        EventType("payout_failed", "payouts", _BOTH, PayoutChange, critical=True),
        EventType("payout_reversed", "payouts", _BOTH, PayoutChange, critical=True),
        EventType("refund_requested", "refunds", _USER, RefundChange),
        EventType("refund_approval_needed", "alerts", _FINANCE, RefundApprovalNeeded),
        EventType("refund_approved", "refunds", _USER, RefundChange),
        EventType("refund_rejected", "refunds", _USER, RefundChange),
        EventType("refund_completed", "refunds", _BOTH, RefundCompleted, critical=True),
        EventType("refund_failed", "refunds", _BOTH, RefundChange, critical=True),
        EventType("refund_stuck", "alerts", _FINANCE, RefundStuck, critical=True),
        EventType("stray_payment_refunded", "alerts", _FINANCE, StrayPayment, critical=True),
        EventType("settlement_statement", "statements", _USER, SettlementStatement),
        EventType("ledger_audit_failed", "alerts", _FINANCE, LedgerAuditFailed, critical=True),
        EventType("recon_breaks_found", "alerts", _FINANCE, ReconBreaksFound, critical=True),
        EventType("notification_undelivered", "alerts", _FINANCE, NotificationUndelivered, critical=True),
    )
}


class OutboxError(ValueError):
    """A row that is not an event of the catalogue, or not in its shape."""


@dataclass(frozen=True, slots=True)
class OutboxRow:
    dedupe_key: str
    event_type: str
    audience: Audience
    user_id: str | None
    payload: dict[str, Any]

    def __post_init__(self) -> None:
        event = CATALOGUE.get(self.event_type)
        if event is None:
            raise OutboxError(f"{self.event_type!r} is not an event of the catalogue")
        if self.audience not in event.audiences or (self.audience == "user") != (self.user_id is not None):
            raise OutboxError(f"{self.event_type} cannot go to {self.audience} {self.user_id!r}")
        if set(self.payload) != event.payload_keys:
            raise OutboxError(f"{self.event_type} payload must have exactly {sorted(event.payload_keys)}")


def catalogue_json() -> str:
    """The catalogue as the SQL writer checks it: event type -> audiences and payload keys."""
    return json.dumps(
        {
            name: {"audiences": sorted(event.audiences), "keys": sorted(event.payload_keys)}
            for name, event in CATALOGUE.items()
        }
    )


def _to_user(key: str, event_type: str, user_id: str, payload: Any) -> OutboxRow:
    return OutboxRow(key, event_type, "user", user_id, dict(payload))


def _to_finance(key: str, event_type: str, payload: Any) -> OutboxRow:
    return OutboxRow(key, event_type, "finance", None, dict(payload))


def payment_outcome(order_id: str, buyer_id: str, succeeded: bool, amount_paise: int) -> OutboxRow:
    outcome = "succeeded" if succeeded else "failed"
    payload = PaymentOutcome(order_id=order_id, amount_paise=amount_paise)
    return _to_user(f"payment:{order_id}:{outcome}", f"payment_{outcome}", buyer_id, payload)


def order_status_changed(order_id: str, recipient_id: str, previous_status: str, status: str) -> OutboxRow:
    """One row per status an order reaches: an order enters each status at most once."""
    payload = OrderStatusChange(order_id=order_id, previous_status=previous_status, status=status)
    return _to_user(f"order_status:{order_id}:{status}", "order_status_changed", recipient_id, payload)


def payment_anomaly(webhook_event_id: int, order_id: str | None, reason: str) -> OutboxRow:
    """Finance hears about verified gateway events that could not be applied as they stand."""
    payload = PaymentAnomaly(webhook_event_id=webhook_event_id, order_id=order_id, reason=reason)
    return _to_finance(f"webhook_anomaly:{webhook_event_id}", "payment_anomaly", payload)


def payment_unconfirmed(unconfirmed: PaymentUnconfirmed) -> OutboxRow:
    """Finance hears once per order that its payment cannot be confirmed and needs a person."""
    return _to_finance(f"payment_unconfirmed:{unconfirmed['order_id']}", "payment_unconfirmed", unconfirmed)


def scout_bounty_earned(recruit_id: str, scout_id: str, order_id: str, amount_paise: int) -> OutboxRow:
    payload = BountyEarned(recruit_id=recruit_id, order_id=order_id, amount_paise=amount_paise)
    return _to_user(f"bounty:{recruit_id}", "scout_bounty_earned", scout_id, payload)


def payout_requested(scout_payout_request_id: str, scout_id: str, amount_paise: int) -> OutboxRow:
    payload = PayoutRequested(scout_payout_request_id=scout_payout_request_id, amount_paise=amount_paise)
    return _to_user(f"payout_request:{scout_payout_request_id}", "payout_requested", scout_id, payload)


PAYOUT_STEP_EVENTS: dict[str, str] = {
    "completed": "payout_completed",
    "cancelled": "payout_cancelled",
    "failed": "payout_failed",
    "reversed": "payout_reversed",
}


def payout_changed(change: PayoutChange) -> list[OutboxRow]:
    """The payee hears of every finished payout; finance also hears when the money came back unpaid."""
    step = change["status"]
    event_type = PAYOUT_STEP_EVENTS[step]
    key = f"payout:{change['payout_id']}:{step}"
    rows = [_to_user(key, event_type, change["payee_id"], change)]
    if "finance" in CATALOGUE[event_type].audiences:
        rows.append(_to_finance(f"{key}:finance", event_type, change))
    return rows


def ledger_audit_failed(audit_id: int, from_entry_id: int, through_entry_id: int, problems: list[str]) -> OutboxRow:
    """Finance hears when the whole-ledger audit finds a broken invariant, once per audit."""
    payload = LedgerAuditFailed(
        audit_id=audit_id, from_entry_id=from_entry_id, through_entry_id=through_entry_id, problems=problems
    )
    return _to_finance(f"ledger_audit:{audit_id}", "ledger_audit_failed", payload)


def refund_changed(change: RefundChange, buyer_id: str, *, requested: bool = False) -> list[OutboxRow]:
    """The buyer hears of their request (`requested`, whatever status it starts in) and of every later
    step of their refund; finance also hears when one failed."""
    event_type = "refund_requested" if requested else f"refund_{change['status']}"
    key = f"refund:{change['refund_id']}:{'requested' if requested else change['status']}"
    rows = [_to_user(key, event_type, buyer_id, change)]
    if "finance" in CATALOGUE[event_type].audiences:
        rows.append(_to_finance(f"{key}:finance", event_type, change))
    return rows


def refund_approval_needed(needed: RefundApprovalNeeded) -> OutboxRow:
    return _to_finance(f"refund:{needed['refund_id']}:approval_needed", "refund_approval_needed", needed)


def refund_completed(completed: RefundCompleted, buyer_id: str, seller_id: str | None) -> list[OutboxRow]:
    """The buyer, the seller whose balance pays for it (none for a stray payment), and finance."""
    key = f"refund:{completed['refund_id']}:completed"
    rows = [_to_user(f"{key}:buyer", "refund_completed", buyer_id, completed)]
    if seller_id is not None:
        rows.append(_to_user(f"{key}:seller", "refund_completed", seller_id, completed))
    rows.append(_to_finance(f"{key}:finance", "refund_completed", completed))
    return rows


def refund_stuck(stuck: RefundStuck) -> OutboxRow:
    """Finance hears once that a refund has been with the gateway too long."""
    return _to_finance(f"refund:{stuck['refund_id']}:stuck", "refund_stuck", stuck)


def stray_payment_refunded(stray: StrayPayment) -> OutboxRow:
    return _to_finance(f"stray_payment:{stray['order_id']}", "stray_payment_refunded", stray)


def recon_breaks_found(found: ReconBreaksFound, scope: Literal["items", "batches"]) -> OutboxRow:
    """Finance hears once per report version of the breaks its rows opened, and once of its batches'."""
    return _to_finance(f"recon:{found['report_id']}:{scope}", "recon_breaks_found", found)


def notification_undelivered(undelivered: NotificationUndelivered) -> OutboxRow:
    """Finance hears once of each delivery that will not be attempted again."""
    key = f"notification_undelivered:{undelivered['delivery_id']}"
    return _to_finance(key, "notification_undelivered", undelivered)
