"""Payout rules: the lifecycle, what a gateway answer means for it, retry timing, and withdrawal limits.

Lifecycle (DESIGN.md §5): `pending -> processing -> completed | failed`, `pending -> failed` (the
gateway refused, or the attempts ran out), `pending -> cancelled`, and `completed -> reversed` when
the bank returns the money. Money moves with each step exactly as DESIGN.md §4 says: `payout sent` at
creation (so one balance can never be paid twice), `completed`, and `failed`, `cancelled` or
`reversed`, each of which returns the money to the payee's balance.

Pure functions only: no database, no gateway, no clock. Retry timing is `domain.platform.retry`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from domain.platform.errors import DomainError

PayoutStatus = Literal["pending", "processing", "completed", "failed", "cancelled", "reversed"]

TRANSITIONS: Final[dict[str, frozenset[str]]] = {
    "pending": frozenset({"processing", "completed", "failed", "cancelled"}),
    "processing": frozenset({"completed", "failed"}),
    "completed": frozenset({"reversed"}),
    "failed": frozenset(),
    "cancelled": frozenset(),
    "reversed": frozenset(),
}
MONEY_RETURNED: Final = frozenset({"failed", "cancelled", "reversed"})

# RazorpayX payout states (DESIGN.md §6) and what each means for our payout.
GATEWAY_COMPLETED: Final = frozenset({"processed"})
GATEWAY_FAILED: Final = frozenset({"cancelled", "rejected", "failed"})
GATEWAY_REVERSED: Final = frozenset({"reversed"})


class PayoutRuleError(DomainError):
    """A change the payout rules refuse."""

    codes = frozenset(
        {
            "validation_error",
            "illegal_payout_transition",
            "payout_below_minimum",
            "insufficient_balance",
            "not_an_active_scout",
            "payout_not_found",
            "payout_busy",
            "payout_outcome_unknown",
            "payout_already_retried",
            "user_not_found",
            "payee_without_destination",
            "payee_not_active",
            "payee_on_hold",
        }
    )


def can_transition(current: str, target: str) -> bool:
    return target in TRANSITIONS.get(current, frozenset())


def require_transition(current: str, target: str) -> None:
    if not can_transition(current, target):
        raise PayoutRuleError("illegal_payout_transition", f"a {current} payout cannot become {target}")


def target_for_gateway_status(gateway_status: str) -> PayoutStatus:
    """Our status for a RazorpayX payout state; unknown states are treated as still in flight."""
    if gateway_status in GATEWAY_COMPLETED:
        return "completed"
    if gateway_status in GATEWAY_FAILED:
        return "failed"
    if gateway_status in GATEWAY_REVERSED:
        return "reversed"
    return "processing"


def path_to(current: str, target: str) -> tuple[str, ...]:
    """The steps from `current` to `target`, filling in what an out-of-order answer skipped.

    A `reversed` answer for a payout we never saw complete means it completed first (the ledger
    needs both postings). A step backwards or sideways (a late `processed` after `reversed`) is
    an empty path: the newer truth stands.
    """
    if current == target:
        return ()
    if can_transition(current, target):
        return (target,)
    if target == "reversed" and can_transition(current, "completed"):
        return ("completed", "reversed")
    return ()


def attempt_key(payout_id: str, attempt_number: int) -> str:
    """The X-Payout-Idempotency key of one attempt (RazorpayX allows at most 64 characters)."""
    key = f"{payout_id}-a{attempt_number}"
    if len(key) > 64:
        raise ValueError("payout id too long for an idempotency key")
    return key


@dataclass(frozen=True, slots=True)
class PayeeBalance:
    """What a payee is owed, split by whether it can be paid now.

    `available`: settled earnings, bounties and clawbacks not covered by a live payout (may be
    negative: a clawback carried to the next payout). `held`: captured but not yet settled (inside
    the hold period). `in_flight`: payouts created or submitted but not finished. `paid`: completed.
    """

    available_paise: int
    held_paise: int
    in_flight_paise: int
    paid_paise: int
    requested_paise: int = 0

    @property
    def withdrawable_paise(self) -> int:
        """What a scout may still ask for: available less requests already waiting for a batch."""
        return max(0, self.available_paise - self.requested_paise)


def withdrawal_problem(amount_paise: int, balance: PayeeBalance, min_payout_paise: int) -> PayoutRuleError | None:
    """Why a scout's withdrawal request is refused, or None when it may be paid in the next batch."""
    if isinstance(amount_paise, bool) or not isinstance(amount_paise, int) or amount_paise <= 0:
        return PayoutRuleError("validation_error", "amount_paise must be a positive integer")
    if amount_paise < min_payout_paise:
        return PayoutRuleError(
            "payout_below_minimum", f"the minimum payout is {min_payout_paise} paise; {amount_paise} was asked for"
        )
    if amount_paise > balance.withdrawable_paise:
        return PayoutRuleError(
            "insufficient_balance",
            f"{amount_paise} paise asked for, {balance.withdrawable_paise} paise available to withdraw",
        )
    return None
