"""Account names and idempotency keys of the ledger: defined here once, with SQL twins.

Accounts are named `<type>` or, for the payee accounts, `<type>:<payee_id>`. Entry keys are
`<kind>:<part>:<part>...` (`capture:<day>:<seller_id>`, `bounty:<recruit_id>`,
`payout:<payout_id>:sent`). The SQL functions `payable_account()`, `account_type_of()`,
`account_payee()` and `entry_key()` (sql/objects/ledger_names.sql) compute the same strings for the
set-based writers; a property test holds the two to each other.
"""

from __future__ import annotations

from typing import Final, Literal

PayeeType = Literal["seller", "scout"]

GATEWAY_CLEARING: Final = "gateway_clearing"
BANK: Final = "bank"
PAYOUTS_IN_TRANSIT: Final = "payouts_in_transit"
SELLER_PAYABLE: Final = "seller_payable"
SCOUT_PAYABLE: Final = "scout_payable"
PLATFORM_REVENUE: Final = "platform_revenue"
BOUNTY_EXPENSE: Final = "bounty_expense"
RECON_SUSPENSE: Final = "recon_suspense"
GST_INPUT_CREDIT: Final = "gst_input_credit"

ACCOUNT_TYPES: Final = (
    GATEWAY_CLEARING,
    BANK,
    PAYOUTS_IN_TRANSIT,
    SELLER_PAYABLE,
    SCOUT_PAYABLE,
    PLATFORM_REVENUE,
    BOUNTY_EXPENSE,
    RECON_SUSPENSE,
    GST_INPUT_CREDIT,
)
PAYABLE_TYPES: Final[dict[str, str]] = {"seller": SELLER_PAYABLE, "scout": SCOUT_PAYABLE}


class LedgerError(Exception):
    """A posting that would break a ledger invariant."""


def _part(value: str, what: str) -> str:
    if not value or ":" in value:
        raise LedgerError(f"{what} must be non-empty and contain no ':'")
    return value


def payable_account(payee_type: PayeeType, payee_id: str) -> str:
    if payee_type not in PAYABLE_TYPES:
        raise LedgerError(f"unknown payee type {payee_type!r}")
    return f"{PAYABLE_TYPES[payee_type]}:{_part(payee_id, 'payee id')}"


def account_type_of(account_id: str) -> str:
    return account_id.split(":", 1)[0]


def account_payee(account_id: str) -> str | None:
    _, _, payee = account_id.partition(":")
    return payee or None


def entry_key(kind: str, *parts: str) -> str:
    """The idempotency key of an entry: its kind and the parts that make it unique, ':'-joined."""
    return ":".join([_part(kind, "entry kind"), *(_part(str(part), "key part") for part in parts)])
