"""Pure rules: the order lifecycle, referral checks, payout destination validation and masking."""

from __future__ import annotations

import pytest

from domain.orders import lifecycle
from domain.orders.tables import ORDER_STATUSES
from domain.outbox import events
from domain.users import rules


def test_lifecycle_covers_every_status() -> None:
    assert set(lifecycle.TRANSITIONS) == set(ORDER_STATUSES)
    assert all(targets <= set(ORDER_STATUSES) for targets in lifecycle.TRANSITIONS.values())


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("created", "paid"),
        ("created", "payment_failed"),
        ("created", "cancelled"),
        ("paid", "delivered"),
        ("paid", "settled"),
        ("delivered", "settled"),
        ("paid", "partially_refunded"),
        ("settled", "refunded"),
        ("partially_refunded", "refunded"),
    ],
)
def test_legal_transitions(current: str, target: str) -> None:
    assert lifecycle.next_status(current, target) == target


@pytest.mark.parametrize(
    ("current", "target"),
    [
        ("created", "delivered"),
        ("created", "settled"),
        ("paid", "cancelled"),
        ("paid", "paid"),
        ("payment_failed", "paid"),
        ("cancelled", "paid"),
        ("refunded", "partially_refunded"),
        ("delivered", "paid"),
    ],
)
def test_illegal_transitions(current: str, target: str) -> None:
    with pytest.raises(lifecycle.IllegalTransition) as raised:
        lifecycle.next_status(current, target)
    assert (raised.value.current, raised.value.target) == (current, target)


def test_only_the_gateway_confirming_a_payment_turns_a_failure_into_paid() -> None:
    assert lifecycle.next_status("payment_failed", "paid", confirmed_by_gateway=True) == "paid"
    assert not lifecycle.can_transition("payment_failed", "paid")  # a webhook or an API client cannot
    for current, target in [("payment_failed", "delivered"), ("cancelled", "paid"), ("paid", "payment_failed")]:
        with pytest.raises(lifecycle.IllegalTransition):
            lifecycle.next_status(current, target, confirmed_by_gateway=True)
    assert "paid" not in lifecycle.CLIENT_EVENTS.values()


def test_client_events() -> None:
    assert lifecycle.status_for_event("paid", "delivered") == "delivered"
    assert lifecycle.status_for_event("created", "cancelled") == "cancelled"
    assert lifecycle.status_for_event("delivered", "delivered") is None
    with pytest.raises(lifecycle.IllegalTransition):
        lifecycle.status_for_event("created", "delivered")
    with pytest.raises(lifecycle.IllegalTransition):
        lifecycle.status_for_event("paid", "cancelled")


def test_outbox_rows() -> None:
    changed = events.order_status_changed("ord_1", "usr_b", "created", "paid")
    assert (changed.dedupe_key, changed.event_type, changed.audience) == (
        "order_status:ord_1:paid",
        "order_status_changed",
        "user",
    )
    paid = events.payment_outcome("ord_1", "usr_b", True, 500)
    failed = events.payment_outcome("ord_1", "usr_b", False, 500)
    assert (paid.dedupe_key, paid.event_type) == ("payment:ord_1:succeeded", "payment_succeeded")
    assert (failed.dedupe_key, failed.event_type) == ("payment:ord_1:failed", "payment_failed")
    assert events.payment_anomaly(7, "ord_1", "amount_mismatch").audience == "finance"
    unconfirmed = events.payment_unconfirmed(
        events.PaymentUnconfirmed(
            order_id="ord_1", amount_paise=500, reason="expired", gateway_state=None, gateway_amount_paise=None,
            attempts=9,
        )
    )  # fmt: skip
    assert (unconfirmed.dedupe_key, unconfirmed.event_type, unconfirmed.audience, unconfirmed.user_id) == (
        "payment_unconfirmed:ord_1",
        "payment_unconfirmed",
        "finance",
        None,
    )
    assert events.CATALOGUE["payment_unconfirmed"].critical
    assert events.CATALOGUE["payment_unconfirmed"].category == "alerts"


@pytest.mark.parametrize(
    ("recruiter_id", "code", "requested", "expected"),
    [(None, None, None, "none"), ("usr_1", None, None, "link"), (None, "ABCDEFGHJK", "code", "code")],
)
def test_referral_source(recruiter_id: str | None, code: str | None, requested: str | None, expected: str) -> None:
    assert rules.referral_source(recruiter_id, code, requested) == expected


@pytest.mark.parametrize(
    ("recruiter_id", "code", "requested"),
    [("usr_1", "ABCDEFGHJK", None), ("usr_1", None, "code"), (None, None, "link")],
)
def test_contradictory_referrals(recruiter_id: str | None, code: str | None, requested: str | None) -> None:
    with pytest.raises(rules.ReferralError) as raised:
        rules.referral_source(recruiter_id, code, requested)
    assert raised.value.code == "referral_conflict"


@pytest.mark.parametrize(
    ("user_id", "recruiter"),
    [
        ("usr_a", None),
        ("usr_a", rules.Recruiter("usr_a", "scout", "active")),
        ("usr_a", rules.Recruiter("usr_b", "seller", "active")),
        ("usr_a", rules.Recruiter("usr_b", "scout", "suspended")),
    ],
)
def test_invalid_recruiters(user_id: str, recruiter: rules.Recruiter | None) -> None:
    with pytest.raises(rules.ReferralError) as raised:
        rules.check_recruiter(user_id, recruiter)
    assert raised.value.code == "recruiter_invalid"


def test_cycle_check() -> None:
    rules.check_no_cycle("usr_a", ["usr_b", "usr_c"])
    with pytest.raises(rules.ReferralError) as raised:
        rules.check_no_cycle("usr_a", ["usr_b", "usr_a"])
    assert raised.value.code == "referral_cycle"


def test_referral_codes_are_well_formed() -> None:
    codes = {rules.new_referral_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(rules.REFERRAL_CODE_PATTERN.match(code) for code in codes)


def test_destinations_are_validated_and_masked() -> None:
    vpa = rules.normalise_destination({"vpa": "Asha.K@OkAxis"})
    assert vpa == {"type": "vpa", "vpa": "asha.k@okaxis"}
    assert rules.mask_destination(vpa) == {"type": "vpa", "vpa": "as****@okaxis"}
    bank = rules.normalise_destination(
        {"account_number": "123456789012", "ifsc": "hdfc0001234", "account_name": "Asha"}
    )
    assert rules.mask_destination(bank) == {
        "type": "bank_account",
        "account_number": "XXXXXXXX9012",
        "ifsc": "HDFC0001234",
        "account_name": "Asha",
    }
    assert rules.mask_destination(None) is None
    for bad in ({"vpa": "no-at-sign"}, {"account_number": "12", "ifsc": "HDFC0001234", "account_name": "A"}, {}):
        with pytest.raises(rules.DestinationError):
            rules.normalise_destination(bad)
