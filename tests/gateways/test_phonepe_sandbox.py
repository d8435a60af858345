"""The PhonePe client against the sandbox over real HTTP: OAuth, order status, refunds, the settlement
report with fees, GST and injected anomalies, and the signed webhooks the sandbox sends."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from domain.money import bps_of
from domain.platform.clock import IST
from domain.platform.gateway_errors import FinalError, NotFoundError
from gateways.phonepe import settlement_report
from gateways.phonepe import webhooks as phonepe
from gateways.phonepe.client import PhonePeClient
from tests.sandbox_fixtures import SandboxHandle

DAY = dt.date(2026, 11, 20)


def _at(day: dt.date, hour: int) -> int:
    return int(dt.datetime.combine(day, dt.time(hour), tzinfo=IST).timestamp() * 1000)


def test_order_status_of_a_paid_order(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_paid", 12_345, paymentMode="UPI_QR")
    status = sandbox.phonepe.order_status("ord_paid")
    assert (status.state, status.amount_paise, status.payment_mode) == ("COMPLETED", 12_345, "UPI_QR")
    assert status.gateway_order_id and status.transaction_id and status.timestamp_ms


def test_failed_then_completed_attempts(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_retry", 5_000, outcome="FAILED")
    assert sandbox.phonepe.order_status("ord_retry").state == "FAILED"
    sandbox.pay("ord_retry", 5_000)
    assert sandbox.phonepe.order_status("ord_retry").state == "COMPLETED"
    again = sandbox.admin(
        "POST", "/payments", json={"merchantOrderId": "ord_retry", "amount": 5_000, "outcome": "COMPLETED"}
    )
    assert again.status_code == 409


def test_unknown_order_is_not_found(sandbox: SandboxHandle) -> None:
    with pytest.raises(NotFoundError) as caught:
        sandbox.phonepe.order_status("ord_nobody")
    assert (caught.value.http_status, caught.value.gateway_code) == (404, "ORDER_NOT_FOUND")


def test_order_statuses_in_parallel(sandbox: SandboxHandle) -> None:
    for n in range(12):
        sandbox.pay(f"ord_b{n}", 1_000 + n, outcome="COMPLETED" if n % 3 else "FAILED")
    results = sandbox.phonepe.order_statuses([*(f"ord_b{n}" for n in range(12)), "ord_missing"], concurrency=4)
    assert len(results) == 13
    assert isinstance(results["ord_missing"], NotFoundError)
    for n in range(12):
        status = results[f"ord_b{n}"]
        assert not isinstance(status, Exception)
        assert (status.amount_paise, status.state) == (1_000 + n, "COMPLETED" if n % 3 else "FAILED")
    assert sandbox.phonepe.order_statuses([]) == {}


def test_wrong_client_secret_is_final(sandbox: SandboxHandle) -> None:
    client = PhonePeClient(
        sandbox.settings.phonepe_base_url, "SANDBOXCLIENT", "wrong-secret", options=sandbox._options()
    )
    with pytest.raises(FinalError) as caught:
        client.order_status("ord_x")
    assert caught.value.http_status == 401


def test_a_rejected_token_is_replaced_once(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_tok", 1_000)
    client = sandbox.phonepe_client()
    client._token = ("9999999999.forged", 9_999_999_999.0)
    assert client.order_status("ord_tok").state == "COMPLETED"
    assert client._token[0] != "9999999999.forged"


def test_refund_lifecycle_and_webhook(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_r", 10_000)
    created = sandbox.phonepe.create_refund("rfd_r1", "ord_r", 4_000)
    assert (created.state, created.amount_paise, created.original_merchant_order_id) == ("PENDING", 4_000, "ord_r")
    again = sandbox.phonepe.create_refund("rfd_r1", "ord_r", 4_000)  # same id, same body: the same refund
    assert again.refund_id == created.refund_id
    sandbox.flush()
    status = sandbox.phonepe.refund_status("rfd_r1")
    assert (status.state, status.amount_paise, status.refund_id) == ("COMPLETED", 4_000, created.refund_id)
    refund_hooks = [hook for hook in sandbox.receiver.for_path("/phonepe") if b"pg.refund" in hook.body]
    assert len(refund_hooks) == 1
    event = phonepe.parse_v2(refund_hooks[0].body)
    assert (event.event, event.merchant_refund_id, event.amount_paise) == ("pg.refund.completed", "rfd_r1", 4_000)


def test_refund_refusals(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_rr", 10_000)
    sandbox.pay("ord_unpaid", 10_000, outcome="FAILED")
    sandbox.phonepe.create_refund("rfd_a", "ord_rr", 6_000)
    cases = [
        (("rfd_a", "ord_rr", 6_001), "DUPLICATE_REQUEST"),  # same id, other body
        (("rfd_b", "ord_rr", 4_001), "REFUND_AMOUNT_EXCEEDED"),
        (("rfd_c", "ord_unpaid", 100), "INVALID_TRANSACTION"),
        (("rfd_d", "ord_none", 100), "INVALID_TRANSACTION"),
        (("rfd e", "ord_rr", 100), "BAD_REQUEST"),
    ]
    for args, code in cases:
        with pytest.raises(FinalError) as caught:
            sandbox.phonepe.create_refund(*args)
        assert caught.value.gateway_code == code, args
    with pytest.raises(FinalError):
        sandbox.phonepe.create_refund("rfd_f", "ord_rr", 0)
    with pytest.raises(NotFoundError):
        sandbox.phonepe.refund_status("rfd_never")
    assert len(sandbox.refunds()) == 1


def test_failed_and_pending_refunds(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_f", 10_000)
    sandbox.configure(refund_outcomes={"rfd_stays": "PENDING"})
    sandbox.phonepe.create_refund("rfd_fail_1", "ord_f", 1_000)
    sandbox.phonepe.create_refund("rfd_stays", "ord_f", 1_000)
    sandbox.flush()
    assert sandbox.phonepe.refund_status("rfd_fail_1").state == "FAILED"
    assert sandbox.phonepe.refund_status("rfd_stays").state == "PENDING"
    sandbox.phonepe.create_refund("rfd_rest", "ord_f", 9_000)  # a failed refund frees its amount


def test_payment_webhook_is_signed_v2(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_w", 2_500, outcome="FAILED")
    sandbox.pay("ord_w2", 2_600)
    sandbox.flush()
    hooks = sandbox.receiver.for_path("/phonepe")
    assert len(hooks) == 2
    settings = sandbox.settings
    events = []
    for hook in hooks:
        phonepe.verify_v2(
            hook.headers["Authorization"],
            settings.phonepe_webhook_username,
            settings.phonepe_webhook_password.get_secret_value(),
        )
        events.append(phonepe.parse_v2(hook.body))
    assert [(e.event, e.merchant_order_id, e.amount_paise) for e in events] == [
        ("checkout.order.failed", "ord_w", 2_500),
        ("checkout.order.completed", "ord_w2", 2_600),
    ]


def test_no_webhook_for_a_pending_payment(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_p", 2_500, outcome="PENDING")
    sandbox.flush()
    assert sandbox.phonepe.order_status("ord_p").state == "PENDING"
    assert sandbox.receiver.received == []


def test_settlement_report_fees_gst_and_refunds(sandbox: SandboxHandle) -> None:
    sandbox.configure(fee_bps=200, gst_bps=1800, gst_split="CGST_SGST", settlement_lag_days=2)
    sandbox.pay("ord_s1", 100_001, paidAtMs=_at(DAY, 9), payer="98XXXXXX01")
    sandbox.pay("ord_s2", 50_000, paidAtMs=_at(DAY, 23))
    sandbox.pay("ord_next_day", 70_000, paidAtMs=_at(DAY + dt.timedelta(days=1), 0))
    report = sandbox.phonepe.settlement_report(DAY)
    assert [row.merchant_reference_id for row in report.rows] == ["ord_s1", "ord_s2"]
    first = report.rows[0]
    fee = bps_of(100_001, 200)
    gst = bps_of(fee, 1800)
    assert (first.amount_paise, first.fee_paise, first.cgst_paise + first.sgst_paise, first.igst_paise) == (
        100_001,
        -fee,
        -gst,
        0,
    )
    assert first.settled_paise == 100_001 - fee - gst
    assert first.settlement_date == DAY + dt.timedelta(days=2)
    assert first.payer == "98XXXXXX01"
    assert len({row.bank_reference_no for row in report.rows}) == 1

    today = dt.datetime.now(IST).date()
    sandbox.pay("ord_today", 10_000)
    sandbox.phonepe.create_refund("rfd_today", "ord_today", 2_500)
    sandbox.flush()
    rows = {row.merchant_reference_id: row for row in sandbox.phonepe.settlement_report(today).rows}
    assert (rows["rfd_today"].payment_type, rows["rfd_today"].amount_paise, rows["rfd_today"].fee_paise) == (
        "REFUND",
        -2_500,
        0,
    )


def test_settlement_report_anomalies(sandbox: SandboxHandle) -> None:
    for n in range(6):
        sandbox.pay(f"ord_a{n}", 10_000 + n, paidAtMs=_at(DAY, 10 + n))
    sandbox.configure(
        report_anomalies={
            "missing": ["ord_a1"],
            "duplicate": ["ord_a2"],
            "amount_diff": {"ord_a3": -7},
            "unknown_count": 2,
        }
    )
    report = sandbox.phonepe.settlement_report(DAY)
    refs = [row.merchant_reference_id for row in report.rows]
    assert "ord_a1" not in refs
    assert refs.count("ord_a2") == 2
    assert next(row for row in report.rows if row.merchant_reference_id == "ord_a3").amount_paise == 10_003 - 7
    unknown = [ref for ref in refs if ref.startswith("UNKNOWN_")]
    assert len(unknown) == 2
    again = sandbox.phonepe.settlement_report(DAY)  # deterministic under the seed
    assert [row.merchant_reference_id for row in again.rows] == refs


def test_settlement_report_rate_anomalies_follow_the_seed(sandbox: SandboxHandle) -> None:
    for n in range(40):
        sandbox.pay(f"ord_q{n}", 10_000, paidAtMs=_at(DAY, 12))
    anomalies = {"missing_rate": 0.2, "duplicate_rate": 0.2, "amount_diff_rate": 0.2, "amount_diff_paise": 1}

    def refs(seed: int) -> list[tuple[str, int]]:
        sandbox.configure(seed=seed, report_anomalies=anomalies)
        return [(row.merchant_reference_id, row.amount_paise) for row in sandbox.phonepe.settlement_report(DAY).rows]

    first = refs(7)
    assert first == refs(7)
    assert first != refs(8)
    assert len({ref for ref, _ in first}) < 40
    assert len(first) != len({ref for ref, _ in first})
    assert any(amount == 10_001 for _, amount in first)


def test_raw_report_download(sandbox: SandboxHandle) -> None:
    sandbox.pay("ord_raw", 100, paidAtMs=_at(DAY, 8))
    raw = sandbox.phonepe.download_settlement_report(DAY)
    assert raw.decode().splitlines()[0] == ",".join(settlement_report.REPORT_COLUMNS)
    assert settlement_report.parse_settlement_report(raw).rows[0].amount_paise == 100


def test_webhook_delay_duplicates_and_order(sandbox: SandboxHandle) -> None:
    sandbox.configure(webhook_duplicate_rate=1.0, webhook_delay_ms=500, webhook_out_of_order=True)
    sandbox.pay("ord_o1", 1_000)
    sandbox.pay("ord_o2", 2_000)
    assert sandbox.receiver.received == []  # delayed
    sandbox.flush()
    bodies = [json.loads(hook.body)["payload"]["merchantOrderId"] for hook in sandbox.receiver.for_path("/phonepe")]
    assert sorted(bodies) == ["ord_o1", "ord_o1", "ord_o2", "ord_o2"]
    assert bodies.index("ord_o2") < bodies.index("ord_o1")  # newest first


def test_webhook_retries_until_accepted(sandbox: SandboxHandle) -> None:
    sandbox.configure(webhook_retry_ms=10, webhook_max_attempts=3)
    sandbox.receiver.status = 500
    sandbox.pay("ord_retry_hook", 1_000)
    sandbox.flush()
    (delivery,) = sandbox.webhooks()
    assert (delivery["attempts"], delivery["delivered"], delivery["last_status"]) == (3, False, 500)
    assert len(sandbox.receiver.received) == 3
    sandbox.receiver.status = 200
    sandbox.configure(webhook_max_attempts=4)
    sandbox.flush()
    assert sandbox.webhooks()[0]["delivered"] is True
