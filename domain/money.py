"""Money arithmetic: integer paise and basis points, one rounding rule, splits that add back up.

No floats anywhere: every amount is an `int` number of paise, every rate an `int` number of basis
points, and `round_half_up` is the only place a fraction becomes paise.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

BPS_DENOMINATOR = 10_000
MAX_PAISE = 2**63 - 1  # PostgreSQL BIGINT


class MoneyError(ValueError):
    """An amount or rate outside what the rules allow."""


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to the nearest integer, halves away from zero."""
    if denominator <= 0:
        raise MoneyError("denominator must be positive")
    quotient, remainder = divmod(abs(numerator), denominator)
    if 2 * remainder >= denominator:
        quotient += 1
    return quotient if numerator >= 0 else -quotient


def bps_of(amount_paise: int, bps: int) -> int:
    """The fee of `bps` basis points on an amount: round_half_up(amount * bps / 10000)."""
    _require_amount(amount_paise)
    if not 0 <= bps <= BPS_DENOMINATOR:
        raise MoneyError("basis points must be between 0 and 10000")
    return round_half_up(amount_paise * bps, BPS_DENOMINATOR)


@dataclass(frozen=True, slots=True)
class FeeBreakdown:
    gross_paise: int
    platform_fee_paise: int
    gateway_fee_paise: int
    seller_net_paise: int


def fee_breakdown(gross_paise: int, platform_fee_bps: int, gateway_fee_bps: int) -> FeeBreakdown:
    """Split one order's gross into platform fee, gateway fee and what the seller is owed.

    Two fees rounded up can exceed a tiny gross by a paisa (50% + 50% of 1 paisa); the gateway takes
    its fee regardless, so the platform fee gives way and the seller's net never goes negative.
    The SQL view `order_fees` applies the same rule.
    """
    if platform_fee_bps + gateway_fee_bps > BPS_DENOMINATOR:
        raise MoneyError("fees exceed the order amount")
    gateway_fee = bps_of(gross_paise, gateway_fee_bps)
    platform_fee = min(bps_of(gross_paise, platform_fee_bps), gross_paise - gateway_fee)
    return FeeBreakdown(gross_paise, platform_fee, gateway_fee, gross_paise - platform_fee - gateway_fee)


@dataclass(frozen=True, slots=True)
class RefundSplit:
    refund_paise: int
    platform_fee_reversed_paise: int
    seller_clawback_paise: int


def refund_split(
    gross_paise: int,
    platform_fee_paise: int,
    refund_paise: int,
    previously_refunded_paise: int = 0,
    previously_reversed_fee_paise: int = 0,
) -> RefundSplit:
    """Who gives back what for one (partial) refund.

    The platform fee is reversed in proportion to the *cumulative* refunded amount, less what earlier
    refunds already reversed, so pieces add up to exactly the full-refund figures. The gateway keeps
    its fee; the seller bears it.
    """
    _require_amount(gross_paise)
    if gross_paise == 0:
        raise MoneyError("cannot refund an order of zero")
    if not 0 <= platform_fee_paise <= gross_paise:
        raise MoneyError("platform fee must be between zero and the gross amount")
    if refund_paise <= 0:
        raise MoneyError("refund must be positive")
    if previously_refunded_paise < 0 or previously_refunded_paise + refund_paise > gross_paise:
        raise MoneyError("refunds would exceed the captured amount")
    cumulative = previously_refunded_paise + refund_paise
    reversed_so_far = round_half_up(platform_fee_paise * cumulative, gross_paise)
    reversed_now = reversed_so_far - previously_reversed_fee_paise
    if not 0 <= reversed_now <= refund_paise:
        raise MoneyError("earlier reversals do not match the earlier refunds")
    return RefundSplit(refund_paise, reversed_now, refund_paise - reversed_now)


def rupees_to_paise(text: str) -> int:
    """Exact conversion of a rupee string with at most two decimals ("-12.30" -> -1230)."""
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise MoneyError(f"not a rupee amount: {text!r}") from None
    if not value.is_finite():
        raise MoneyError(f"not a rupee amount: {text!r}")
    paise = value * 100
    if paise != paise.to_integral_value():
        raise MoneyError(f"more than two decimals: {text!r}")
    if abs(paise) > MAX_PAISE:
        raise MoneyError(f"amount out of range: {text!r}")
    return int(paise)


def format_rupees(paise: int) -> str:
    """Rs 1,234.50 style, for people; never parsed back."""
    sign = "-" if paise < 0 else ""
    rupees, rest = divmod(abs(paise), 100)
    return f"{sign}Rs {rupees:,}.{rest:02d}"


def _require_amount(amount_paise: int) -> None:
    if isinstance(amount_paise, bool) or not isinstance(amount_paise, int):
        raise MoneyError("amounts are integer paise")
    if amount_paise < 0:
        raise MoneyError("amount must not be negative")
