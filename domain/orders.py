"""The order lifecycle of DESIGN.md section 5 as data, and the outbox rows a status change writes.

Pure: no I/O. The API and the batch side both ask `next_status` before changing an order, so an
illegal transition is refused in one place with one error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "created": frozenset({"paid", "payment_failed", "cancelled"}),
    "paid": frozenset({"delivered", "settled", "partially_refunded", "refunded"}),
    "delivered": frozenset({"settled", "partially_refunded", "refunded"}),
    "settled": frozenset({"partially_refunded", "refunded"}),
    "partially_refunded": frozenset({"refunded"}),
    "payment_failed": frozenset(),
    "refunded": frozenset(),
    "cancelled": frozenset(),
}

# Fulfilment events a client service may post, and the status each leads to.
CLIENT_EVENTS: Final[dict[str, str]] = {"delivered": "delivered", "cancelled": "cancelled"}

# The timestamp column each status stamps when it is entered.
STATUS_TIMESTAMPS: Final[dict[str, str]] = {
    "paid": "paid_at",
    "payment_failed": "payment_failed_at",
    "delivered": "delivered_at",
    "cancelled": "cancelled_at",
}


class IllegalTransition(Exception):
    """The order's current status does not allow the requested change."""

    def __init__(self, current: str, target: str) -> None:
        super().__init__(f"an order in status {current!r} cannot become {target!r}")
        self.current = current
        self.target = target


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def next_status(current: str, target: str) -> str:
    """Return `target` if the lifecycle allows it from `current`, else raise `IllegalTransition`."""
    if not can_transition(current, target):
        raise IllegalTransition(current, target)
    return target


def status_for_event(current: str, event: str) -> str | None:
    """The status a client event leads to; None when the order is already there (a retried event).

    Raises `IllegalTransition` for an event the current status does not allow, and KeyError for an
    unknown event (the API's schema refuses those before they get here).
    """
    target = CLIENT_EVENTS[event]
    if current == target:
        return None
    return next_status(current, target)


@dataclass(frozen=True, slots=True)
class OutboxRow:
    dedupe_key: str
    event_type: str
    user_id: str | None
    payload: dict[str, object]

    @property
    def audience(self) -> str:
        return "user" if self.user_id else "finance"


def status_changed(order_id: str, user_id: str, previous: str, status: str) -> OutboxRow:
    """One row per status an order reaches: an order enters each status at most once."""
    return OutboxRow(
        f"order_status:{order_id}:{status}",
        "order_status_changed",
        user_id,
        {"order_id": order_id, "from": previous, "to": status},
    )


def payment_outcome(order_id: str, user_id: str, succeeded: bool, amount_paise: int) -> OutboxRow:
    outcome = "succeeded" if succeeded else "failed"
    return OutboxRow(
        f"payment:{order_id}:{outcome}",
        f"payment_{outcome}",
        user_id,
        {"order_id": order_id, "amount_paise": amount_paise},
    )


def webhook_anomaly(webhook_event_id: int, order_id: str | None, reason: str) -> OutboxRow:
    """Finance hears about verified gateway events that could not be applied as they stand."""
    return OutboxRow(
        f"webhook_anomaly:{webhook_event_id}",
        "payment_anomaly",
        None,
        {"webhook_event_id": webhook_event_id, "order_id": order_id, "reason": reason},
    )
