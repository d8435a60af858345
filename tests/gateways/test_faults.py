"""Every injected fault maps to its documented error class, over real HTTP; and the two guarantees:
an idempotency key makes one payout, and an answer lost after acting is found by a status query."""

from __future__ import annotations

import datetime as dt
import socket
import time

import pytest
import requests
from requests.adapters import HTTPAdapter

from domain.payouts.gateway import PayoutRequest, VpaDestination
from domain.platform.gateway_errors import FinalError, OutcomeUnknownError, RetriableError
from gateways.http import HttpOptions, classify_exception, parse_retry_after
from gateways.razorpayx.client import RazorpayXClient
from tests.sandbox_fixtures import SandboxHandle

FAST = {"read_timeout_s": 0.5, "read_retries": 0}


def _request(reference: str = "pay_f1") -> PayoutRequest:
    return PayoutRequest(reference, 50_000, VpaDestination("seller@okaxis"), "Seller", "usr_1")


# -- money-moving calls -----------------------------------------------------------------------------


def test_dropped_payout_response_is_unknown_and_found_by_reference(sandbox: SandboxHandle) -> None:
    sandbox.set_faults({"payout_create": {"drop_response_rate": 1.0}})
    client = sandbox.razorpayx_client(**FAST)
    with pytest.raises(OutcomeUnknownError):
        client.create_payout("attempt_drop", _request("pay_drop"))
    sandbox.set_faults({})
    found = client.find_payout_by_reference("pay_drop")
    assert found is not None and found.amount_paise == 50_000
    again = client.create_payout("attempt_drop", _request("pay_drop"))  # the same attempt, resent
    assert again.gateway_payout_id == found.gateway_payout_id
    (witness,) = sandbox.payouts()
    assert witness["create_calls"] == 2


def test_payout_read_timeout_is_unknown_and_acted(sandbox: SandboxHandle) -> None:
    sandbox.set_faults({"payout_create": {"timeout_rate": 1.0, "timeout_ms": 1500}})
    client = sandbox.razorpayx_client(**FAST)
    started = time.monotonic()
    with pytest.raises(OutcomeUnknownError):
        client.create_payout("attempt_slow", _request("pay_slow"))
    assert time.monotonic() - started < 1.4
    found = client.find_payout_by_reference("pay_slow")
    assert found is not None
    assert len(sandbox.payouts()) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_payout_5xx_is_retriable_and_acts_not(sandbox: SandboxHandle, status: int) -> None:
    sandbox.set_faults({"payout_create": {"error_rate": 1.0, "error_status": status}})
    with pytest.raises(RetriableError) as caught:
        sandbox.razorpayx_client(**FAST).create_payout("attempt_5xx", _request())
    assert caught.value.http_status == status
    assert caught.value.gateway_code == "SERVER_ERROR"
    assert sandbox.payouts() == []


def test_payout_429_carries_retry_after(sandbox: SandboxHandle) -> None:
    sandbox.set_faults({"payout_create": {"rate_limit_rate": 1.0, "retry_after_s": 7}})
    with pytest.raises(RetriableError) as caught:
        sandbox.razorpayx.create_payout("attempt_429", _request())
    assert (caught.value.http_status, caught.value.retry_after_s) == (429, 7.0)
    assert sandbox.payouts() == []


def test_injected_4xx_is_final(sandbox: SandboxHandle) -> None:
    sandbox.set_faults({"payout_create": {"error_rate": 1.0, "error_status": 400}})
    with pytest.raises(FinalError) as caught:
        sandbox.razorpayx.create_payout("attempt_400", _request())
    assert not isinstance(caught.value, RetriableError | OutcomeUnknownError)


def test_retried_attempt_after_retriable_errors_makes_one_payout(sandbox: SandboxHandle) -> None:
    sandbox.set_faults({"payout_create": {"error_rate": 0.5, "drop_response_rate": 0.3}}, seed=11)
    client = sandbox.razorpayx_client(**FAST)
    outcomes = []
    for _ in range(12):
        try:
            client.create_payout("attempt_flaky", _request("pay_flaky"))
            outcomes.append("ok")
        except RetriableError:
            outcomes.append("retriable")
        except OutcomeUnknownError:
            outcomes.append("unknown")
    assert {"ok", "retriable", "unknown"} <= set(outcomes)
    (witness,) = sandbox.payouts()
    assert witness["create_calls"] == outcomes.count("ok") + outcomes.count("unknown")


def test_dropped_refund_response_is_unknown_and_found_by_status(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_fd", 10_000)
    sandbox.set_faults({"refund_create": {"drop_response_rate": 1.0}})
    client = sandbox.phonepe_client(**FAST)
    with pytest.raises(OutcomeUnknownError):
        client.create_refund("rfd_drop", "ord_fd", 3_000)
    status = client.refund_status("rfd_drop")
    assert (status.amount_paise, status.state in {"PENDING", "COMPLETED"}) == (3_000, True)


def test_refund_timeout_and_5xx(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_ft", 10_000)
    client = sandbox.phonepe_client(**FAST)
    sandbox.set_faults({"refund_create": {"timeout_rate": 1.0, "timeout_ms": 1200}})
    with pytest.raises(OutcomeUnknownError):
        client.create_refund("rfd_slow", "ord_ft", 1_000)
    sandbox.set_faults({"refund_create": {"error_rate": 1.0, "error_status": 503}})
    with pytest.raises(RetriableError) as caught:
        client.create_refund("rfd_5xx", "ord_ft", 1_000)
    assert caught.value.gateway_code == "INTERNAL_SERVER_ERROR"
    assert [refund["merchantRefundId"] for refund in sandbox.refunds()] == ["rfd_slow"]


def test_oauth_failure_before_a_refund_is_retriable(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_fo", 10_000)
    sandbox.set_faults({"oauth": {"error_rate": 1.0}})
    with pytest.raises(RetriableError):
        sandbox.phonepe_client(**FAST).create_refund("rfd_oauth", "ord_fo", 1_000)
    assert sandbox.refunds() == []


def test_connection_refused_is_retriable_even_for_money() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = RazorpayXClient(f"http://127.0.0.1:{port}/razorpayx", "k", "s", "1", options=HttpOptions(read_retries=0))
    with pytest.raises(RetriableError):
        client.create_payout("attempt_refused", _request())


# -- read-only calls ---------------------------------------------------------------------------------


def test_read_only_faults_are_retriable(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_ro", 1_000)
    client = sandbox.phonepe_client(**FAST)
    payouts = sandbox.razorpayx_client(**FAST)
    made = payouts.create_payout("attempt_ro", _request("pay_ro"))
    cases = {
        "order_status": lambda: client.order_status("ord_ro"),
        "payout_fetch": lambda: payouts.fetch_payout(made.gateway_payout_id),
        "payout_list": lambda: payouts.find_payout_by_reference("pay_ro"),
        "refund_status": lambda: client.refund_status("rfd_none"),
        "settlement_report": lambda: client.settlement_report(dt.date(2026, 11, 1)),
    }
    faults = [
        {"error_rate": 1.0, "error_status": 500},
        {"rate_limit_rate": 1.0, "retry_after_s": 2},
        {"timeout_rate": 1.0, "timeout_ms": 1000},
        {"drop_response_rate": 1.0},
    ]
    for fault in faults:
        for endpoint, call in cases.items():
            sandbox.set_faults({endpoint: fault})
            with pytest.raises(RetriableError):
                call()
    sandbox.set_faults({})
    assert client.order_status("ord_ro").state == "COMPLETED"


def test_read_only_calls_retry_with_backoff(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_rb", 1_000)
    sandbox.set_faults(
        {
            "order_status": {"error_rate": 1.0, "limit": 2},
            "payout_list": {"rate_limit_rate": 1.0, "retry_after_s": 0, "limit": 1},
        }
    )
    client = sandbox.phonepe_client(read_timeout_s=0.5, read_retries=2, backoff_base_s=0.01)
    assert client.order_status("ord_rb").state == "COMPLETED"
    assert sandbox.razorpayx_client(read_retries=1).find_payout_by_reference("pay_none") is None


def test_latency_under_and_over_the_read_timeout(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_lat", 1_000)
    sandbox.set_faults({"order_status": {"latency_ms": 150}})
    client = sandbox.phonepe_client(**FAST)
    started = time.monotonic()
    assert client.order_status("ord_lat").state == "COMPLETED"
    assert time.monotonic() - started >= 0.15
    sandbox.set_faults({"order_status": {"latency_ms": 800}})
    with pytest.raises(RetriableError):
        client.order_status("ord_lat")


def test_faults_are_deterministic_under_a_seed(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_seed", 1_000)
    client = sandbox.phonepe_client(**FAST)

    def pattern(seed: int) -> list[bool]:
        sandbox.set_faults({"order_status": {"error_rate": 0.5}}, seed=seed)
        seen = []
        for _ in range(16):
            try:
                client.order_status("ord_seed")
                seen.append(True)
            except RetriableError:
                seen.append(False)
        return seen

    first = pattern(3)
    assert first == pattern(3)
    assert first != pattern(4)
    assert True in first and False in first


def test_fault_config_is_validated(sandbox: SandboxHandle) -> None:
    bad = [
        {"seed": 1, "endpoints": {"nowhere": {}}},
        {"seed": 1, "endpoints": {"order_status": {"error_rate": 0.7, "timeout_rate": 0.5}}},
        {"seed": 1, "endpoints": {"order_status": {"latency": 5}}},
    ]
    for body in bad:
        assert sandbox.admin("PUT", "/faults", json=body).status_code == 422
    assert sandbox.admin("PUT", "/config", json={"fee_bps": -1}).status_code == 422
    assert sandbox.admin("GET", "/faults").json() == {"seed": 0, "endpoints": {}}


# -- classification without a server -------------------------------------------------------------------


class _Raising(HTTPAdapter):
    def __init__(self, exc: Exception) -> None:
        super().__init__()
        self.exc = exc

    def send(self, *args: object, **kwargs: object) -> requests.Response:
        raise self.exc


@pytest.mark.parametrize(
    ("exc", "money_class", "read_class"),
    [
        (requests.ConnectTimeout("connect timed out"), RetriableError, RetriableError),
        (requests.ReadTimeout("read timed out"), OutcomeUnknownError, RetriableError),
        (requests.ConnectionError("Connection aborted: reset by peer"), OutcomeUnknownError, RetriableError),
        (requests.exceptions.ChunkedEncodingError("truncated"), OutcomeUnknownError, RetriableError),
    ],
)
def test_transport_failures_by_call_kind(exc: requests.RequestException, money_class: type, read_class: type) -> None:
    assert type(classify_exception(exc, money_moving=True)) is money_class
    assert type(classify_exception(exc, money_moving=False)) is read_class
    client = RazorpayXClient("http://gateway.invalid/razorpayx", "k", "s", "1", options=HttpOptions(read_retries=0))
    client._http.session.mount("http://", _Raising(exc))
    with pytest.raises(money_class):
        client.create_payout("attempt_stub", _request())
    with pytest.raises(read_class):
        client.fetch_payout("pout_1")


def test_retry_after_forms() -> None:
    now = dt.datetime(2026, 11, 26, 12, 0, 0, tzinfo=dt.UTC)
    assert parse_retry_after("30") == 30.0
    assert parse_retry_after("Thu, 26 Nov 2026 12:00:45 GMT", now=now) == 45.0
    assert parse_retry_after("Thu, 26 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None
