"""The RazorpayX client against the sandbox over real HTTP: idempotent payouts, fetch, lookup by
reference, deterministic outcomes and the signed payout webhooks."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from domain.payouts.gateway import BankDestination, PayoutRequest, VpaDestination
from domain.payouts.rules import target_for_gateway_status
from domain.platform.gateway_errors import FinalError, NotFoundError
from gateways.razorpayx import webhooks as razorpayx
from gateways.razorpayx.client import RazorpayXClient
from tests.sandbox_fixtures import SandboxHandle


def _request(reference: str = "pay_1", amount: int = 12_345, vpa: str = "seller@okaxis") -> PayoutRequest:
    return PayoutRequest(reference, amount, VpaDestination(vpa), "Seller One", "usr_1", narration="Marketplace payout")


def test_same_key_same_body_is_one_payout(sandbox: SandboxHandle) -> None:
    first = sandbox.razorpayx.create_payout("attempt_1", _request())
    second = sandbox.razorpayx.create_payout("attempt_1", _request())
    assert first.gateway_payout_id == second.gateway_payout_id
    assert (first.status, first.amount_paise, first.reference_id, first.mode) == ("processing", 12_345, "pay_1", "UPI")
    (witness,) = sandbox.payouts()
    assert (witness["id"], witness["idempotency_key"], witness["create_calls"]) == (
        first.gateway_payout_id,
        "attempt_1",
        2,
    )


def test_same_key_other_body_is_refused(sandbox: SandboxHandle) -> None:
    sandbox.razorpayx.create_payout("attempt_2", _request())
    with pytest.raises(FinalError) as caught:
        sandbox.razorpayx.create_payout("attempt_2", _request(amount=12_346))
    assert (caught.value.http_status, caught.value.gateway_code) == (400, "BAD_REQUEST_ERROR")
    assert "Different request body" in (caught.value.response_body or "")
    assert len(sandbox.payouts()) == 1


def test_concurrent_creates_with_one_key_make_one_payout(sandbox: SandboxHandle) -> None:
    ids: list[str] = []
    barrier = threading.Barrier(8)

    def create() -> None:
        client = sandbox.razorpayx_client()
        barrier.wait()
        ids.append(client.create_payout("attempt_race", _request()).gateway_payout_id)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and len(ids) == 8
    (witness,) = sandbox.payouts()
    assert witness["create_calls"] == 8


def test_new_key_is_a_new_payout(sandbox: SandboxHandle) -> None:
    a = sandbox.razorpayx.create_payout("attempt_a", _request())
    b = sandbox.razorpayx.create_payout("attempt_b", _request())
    assert a.gateway_payout_id != b.gateway_payout_id
    found = sandbox.razorpayx.find_payout_by_reference("pay_1")
    assert found is not None and found.gateway_payout_id in {a.gateway_payout_id, b.gateway_payout_id}
    assert sandbox.razorpayx.find_payout_by_reference("pay_nothing") is None


def test_processed_payout_fetch_and_webhook(sandbox: SandboxHandle) -> None:
    created = sandbox.razorpayx.create_payout("attempt_p", _request("pay_p"))
    sandbox.flush()
    fetched = sandbox.razorpayx.fetch_payout(created.gateway_payout_id)
    assert (fetched.status, target_for_gateway_status(fetched.status)) == ("processed", "completed")
    assert fetched.utr and len(fetched.utr) == 12
    (hook,) = sandbox.receiver.for_path("/razorpayx")
    razorpayx.verify(
        hook.headers["X-Razorpay-Signature"], sandbox.settings.razorpayx_webhook_secret.get_secret_value(), hook.body
    )
    event = razorpayx.parse(hook.body, hook.headers["X-Razorpay-Event-Id"])
    assert (event.event, event.gateway_payout_id, event.reference_id, event.amount_paise, event.utr) == (
        "payout.processed",
        created.gateway_payout_id,
        "pay_p",
        12_345,
        fetched.utr,
    )


def test_outcomes_by_payee_pattern_and_override(sandbox: SandboxHandle) -> None:
    sandbox.configure(payout_outcomes={"pay_forced": "failed"})
    made = {
        "pay_fail": sandbox.razorpayx.create_payout("k1", _request("pay_fail", vpa="will.fail@okaxis")),
        "pay_rev": sandbox.razorpayx.create_payout("k2", _request("pay_rev", vpa="reverse.me@okaxis")),
        "pay_wait": sandbox.razorpayx.create_payout("k3", _request("pay_wait", vpa="pending@okaxis")),
        "pay_forced": sandbox.razorpayx.create_payout("k4", _request("pay_forced")),
        "pay_bank": sandbox.razorpayx.create_payout(
            "k5",
            dataclasses.replace(
                _request("pay_bank"), destination=BankDestination("1234567890", "HDFC0000123", "Seller")
            ),
        ),
    }
    sandbox.flush()
    status = {ref: sandbox.razorpayx.fetch_payout(p.gateway_payout_id) for ref, p in made.items()}
    assert {ref: p.status for ref, p in status.items()} == {
        "pay_fail": "failed",
        "pay_rev": "reversed",
        "pay_wait": "processing",
        "pay_forced": "failed",
        "pay_bank": "processed",
    }
    assert target_for_gateway_status(status["pay_fail"].status) == "failed" and status["pay_fail"].failure_reason
    assert status["pay_bank"].mode == "IMPS"
    secret = sandbox.settings.razorpayx_webhook_secret.get_secret_value()
    events = []
    for hook in sandbox.receiver.for_path("/razorpayx"):
        razorpayx.verify(hook.headers["X-Razorpay-Signature"], secret, hook.body)
        events.append(razorpayx.parse(hook.body, hook.headers["X-Razorpay-Event-Id"]))
    by_ref = sorted((e.reference_id, e.event) for e in events)
    assert by_ref == [
        ("pay_bank", "payout.processed"),
        ("pay_fail", "payout.failed"),
        ("pay_forced", "payout.failed"),
        ("pay_rev", "payout.processed"),
        ("pay_rev", "payout.reversed"),
    ]
    assert len({e.event_id for e in events}) == len(events)


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (_request(vpa="invalid.payee@okaxis"), "fund_account.vpa.address"),  # unknown payee
        (_request(vpa="not-a-vpa"), "fund_account.vpa.address"),
        (_request(amount=99), "amount"),
        (_request(reference="r" * 41), "reference_id"),
        (dataclasses.replace(_request(), destination=BankDestination("12ab", "HDFC0000123", "S")), None),
        (dataclasses.replace(_request(), destination=BankDestination("1234567", "HDFC123", "S")), None),
        (dataclasses.replace(_request(), mode="NEFT"), "mode"),
    ],
)
def test_validation_errors_are_final(sandbox: SandboxHandle, request_: PayoutRequest, field: str | None) -> None:
    with pytest.raises(FinalError) as caught:
        sandbox.razorpayx.create_payout("attempt_v", request_)
    assert (caught.value.http_status, caught.value.gateway_code) == (400, "BAD_REQUEST_ERROR")
    if field:
        assert f'"field":"{field}"' in (caught.value.response_body or "").replace(" ", "")
    assert sandbox.payouts() == []


def test_client_side_refusals_send_nothing(sandbox: SandboxHandle) -> None:
    with pytest.raises(FinalError):
        sandbox.razorpayx.create_payout("", _request())
    with pytest.raises(FinalError):
        sandbox.razorpayx.create_payout("k" * 65, _request())
    assert sandbox.payouts() == []


def test_wrong_key_and_unknown_payout(sandbox: SandboxHandle) -> None:
    bad = RazorpayXClient(
        sandbox.settings.razorpayx_base_url, "rzp_test_sandbox", "wrong", sandbox.settings.razorpayx_account_number
    )
    with pytest.raises(FinalError) as caught:
        bad.create_payout("attempt_auth", _request())
    assert caught.value.http_status == 401
    with pytest.raises(NotFoundError):
        sandbox.razorpayx.fetch_payout("pout_doesnotexist")
    wrong_account = RazorpayXClient(
        sandbox.settings.razorpayx_base_url,
        sandbox.settings.razorpayx_key_id,
        sandbox.settings.razorpayx_key_secret.get_secret_value(),
        "999",
    )
    with pytest.raises(FinalError):
        wrong_account.create_payout("attempt_acct", _request())
    assert sandbox.payouts() == []
