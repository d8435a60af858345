"""The order lifecycle of DESIGN.md section 5 as data.

Pure: no I/O. The API and the batch side both ask `next_status` before changing an order, so an
illegal transition is refused in one place with one error.
"""

from __future__ import annotations

from typing import Final

from domain.platform.errors import DomainError

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


class IllegalTransition(DomainError):
    """The order's current status does not allow the requested change."""

    codes = frozenset({"illegal_transition"})

    def __init__(self, current: str, target: str) -> None:
        super().__init__("illegal_transition", f"An order in status {current!r} cannot become {target!r}.")
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
