"""The order lifecycle of DESIGN.md section 5 as data.

Pure: no I/O. The API and the batch side both ask `next_status` before changing an order, so an
illegal transition is refused in one place with one error.

A webhook alone never settles a payment's outcome: the gateway's status API does. So the one way
back from `payment_failed` is the payment confirmation finding the payment COMPLETED for the full
amount (a forged `checkout.order.failed` must not block a real payment). That transition is kept
apart in `CONFIRMED_TRANSITIONS`, and only a caller passing `confirmed_by_gateway=True` gets it: no
client event and no webhook can.
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

# Transitions only the gateway's status API, confirming a payment, may make.
CONFIRMED_TRANSITIONS: Final[dict[str, frozenset[str]]] = {"payment_failed": frozenset({"paid"})}

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


class OrderNotFound(DomainError):
    codes = frozenset({"order_not_found"})

    def __init__(self, order_id: str) -> None:
        super().__init__("order_not_found", f"There is no order {order_id}.")


def can_transition(current: str, target: str, *, confirmed_by_gateway: bool = False) -> bool:
    if target in TRANSITIONS.get(current, frozenset()):
        return True
    return confirmed_by_gateway and target in CONFIRMED_TRANSITIONS.get(current, frozenset())


def next_status(current: str, target: str, *, confirmed_by_gateway: bool = False) -> str:
    """Return `target` if the lifecycle allows it from `current`, else raise `IllegalTransition`.

    `confirmed_by_gateway` is for the payment confirmation only: the gateway's status API has just
    reported the payment COMPLETED for the order's full amount.
    """
    if not can_transition(current, target, confirmed_by_gateway=confirmed_by_gateway):
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
