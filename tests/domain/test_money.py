"""Money arithmetic with exact paise: worked tables first, then properties over all inputs."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.money import (
    MoneyError,
    bps_of,
    fee_breakdown,
    format_rupees,
    refund_split,
    round_half_up,
    rupees_to_paise,
)


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (0, 7, 0),
        (5, 10, 1),
        (4, 10, 0),
        (15, 10, 2),
        (14, 10, 1),
        (-5, 10, -1),
        (-4, 10, 0),
        (1, 3, 0),
        (2, 3, 1),
    ],
)
def test_round_half_up(numerator: int, denominator: int, expected: int) -> None:
    assert round_half_up(numerator, denominator) == expected


@pytest.mark.parametrize(
    ("amount", "bps", "expected"),
    [
        (1005, 150, 15),  # 15.075 -> 15
        (1000, 150, 15),  # exactly 15
        (1100, 150, 17),  # 16.5 -> 17: the half-paisa edge rounds up
        (1033, 150, 15),  # 15.495 -> 15
        (1034, 150, 16),  # 15.51 -> 16
        (5, 1000, 1),  # 0.5 -> 1
        (4, 1000, 0),  # 0.4 -> 0
        (99_999, 1000, 10_000),  # 9999.9 -> 10000
        (100_000_000, 1000, 10_000_000),
        (0, 1000, 0),
        (12_345, 0, 0),
        (12_345, 10_000, 12_345),
    ],
)
def test_bps_of_exact_paise(amount: int, bps: int, expected: int) -> None:
    assert bps_of(amount, bps) == expected


@pytest.mark.parametrize(
    ("gross", "platform", "gateway", "net"),
    [
        (10_000, 1000, 150, 8850),
        (1005, 101, 15, 889),  # platform 100.5 -> 101, gateway 15.075 -> 15
        (1100, 110, 17, 973),
        (1, 0, 0, 1),  # a one-paisa order: both fees round to zero
        (5, 1, 0, 4),
    ],
)
def test_fee_breakdown_default_rates(gross: int, platform: int, gateway: int, net: int) -> None:
    fees = fee_breakdown(gross, 1000, 150)
    assert (fees.gross_paise, fees.platform_fee_paise, fees.gateway_fee_paise, fees.seller_net_paise) == (
        gross,
        platform,
        gateway,
        net,
    )


@pytest.mark.parametrize(
    "bad",
    [
        lambda: bps_of(-1, 100),
        lambda: bps_of(100, 10_001),
        lambda: bps_of(100, -1),
        lambda: fee_breakdown(100, 9000, 2000),
    ],
)
def test_money_errors(bad) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(MoneyError):
        bad()


def test_platform_fee_gives_way_when_two_roundings_exceed_the_gross() -> None:
    fees = fee_breakdown(1, 5000, 5000)  # 0.5 -> 1 and 0.5 -> 1 would take 2 paise of 1
    assert (fees.platform_fee_paise, fees.gateway_fee_paise, fees.seller_net_paise) == (0, 1, 0)


def test_amounts_must_be_integers() -> None:
    with pytest.raises(MoneyError, match="integer paise"):
        bps_of(10.5, 100)  # type: ignore[arg-type]
    with pytest.raises(MoneyError, match="integer paise"):
        bps_of(True, 100)


def test_partial_refund_worked_example() -> None:
    # Order Rs 100.00: platform fee Rs 10.00. Refund Rs 33.33, then Rs 33.33, then the rest Rs 33.34.
    first = refund_split(10_000, 1000, 3333)
    assert (first.platform_fee_reversed_paise, first.seller_clawback_paise) == (333, 3000)
    second = refund_split(10_000, 1000, 3333, 3333, 333)
    assert (second.platform_fee_reversed_paise, second.seller_clawback_paise) == (334, 2999)  # 666.6 -> 667
    third = refund_split(10_000, 1000, 3334, 6666, 667)
    assert (third.platform_fee_reversed_paise, third.seller_clawback_paise) == (333, 3001)
    assert 333 + 334 + 333 == 1000  # in pieces equals all at once
    whole = refund_split(10_000, 1000, 10_000)
    assert (whole.platform_fee_reversed_paise, whole.seller_clawback_paise) == (1000, 9000)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((10_000, 1000, 0), "positive"),
        ((10_000, 1000, 10_001), "exceed"),
        ((10_000, 1000, 5000, 6000, 600), "exceed"),
        ((10_000, 1000, 100, 0, 50), "earlier reversals"),
        ((0, 0, 1), "zero"),
        ((100, 101, 1), "platform fee"),
    ],
)
def test_refund_split_refuses(args: tuple[int, ...], message: str) -> None:
    with pytest.raises(MoneyError, match=message):
        refund_split(*args)


@pytest.mark.parametrize(
    ("text", "paise"),
    [
        ("0.00", 0),
        ("12.30", 1230),
        ("-12.30", -1230),
        ("1", 100),
        ("1.5", 150),
        ("-0.01", -1),
        (" 99999999.99 ", 9_999_999_999),
    ],
)
def test_rupees_to_paise(text: str, paise: int) -> None:
    assert rupees_to_paise(text) == paise


@pytest.mark.parametrize("text", ["1.234", "abc", "", "NaN", "Infinity", "1e400000"])
def test_rupees_to_paise_refuses(text: str) -> None:
    with pytest.raises(MoneyError):
        rupees_to_paise(text)


def test_format_rupees() -> None:
    assert format_rupees(123_456_789) == "Rs 1,234,567.89"
    assert format_rupees(-5) == "-Rs 0.05"


amounts = st.integers(min_value=1, max_value=10**12)
rates = st.integers(min_value=0, max_value=10_000)


@given(amounts, rates, rates)
def test_breakdown_adds_back_to_gross(gross: int, platform_bps: int, gateway_bps: int) -> None:
    if platform_bps + gateway_bps > 10_000:
        platform_bps = 10_000 - gateway_bps
    fees = fee_breakdown(gross, platform_bps, gateway_bps)
    assert fees.platform_fee_paise + fees.gateway_fee_paise + fees.seller_net_paise == gross
    assert 0 <= fees.platform_fee_paise <= gross
    assert 0 <= fees.gateway_fee_paise <= gross
    assert fees.seller_net_paise >= 0


@given(amounts, rates)
def test_fee_is_the_nearest_paisa(amount: int, bps: int) -> None:
    fee = bps_of(amount, bps)
    assert abs(fee * 10_000 - amount * bps) * 2 <= 10_000  # within half a paisa of the exact value
    assert 0 <= fee <= amount


@given(amounts, rates, st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=12))
def test_repeated_partial_refunds_never_exceed_the_fee(gross: int, bps: int, pieces: list[int]) -> None:
    platform_fee = bps_of(gross, bps)
    refunded = reversed_fee = 0
    for piece in pieces:
        piece = min(piece, gross - refunded)
        if piece == 0:
            break
        split = refund_split(gross, platform_fee, piece, refunded, reversed_fee)
        assert split.platform_fee_reversed_paise + split.seller_clawback_paise == piece
        assert split.platform_fee_reversed_paise >= 0 and split.seller_clawback_paise >= 0
        refunded += piece
        reversed_fee += split.platform_fee_reversed_paise
        assert reversed_fee <= platform_fee
    if refunded == gross:
        assert reversed_fee == platform_fee  # a full refund in pieces equals a full refund at once
