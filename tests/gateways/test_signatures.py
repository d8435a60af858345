"""Known-answer vectors for every webhook signature scheme, computed outside Python (sha256sum and
`openssl dgst -hmac`) from the published formulas, plus the ways a signature must be refused."""

from __future__ import annotations

import pytest

from domain.platform.gateway_errors import WebhookRejected
from gateways.phonepe import webhooks as phonepe
from gateways.razorpayx import webhooks as razorpayx

# PhonePe PG v2: Authorization = hex(SHA256(username + ":" + password)).
V2_USERNAME, V2_PASSWORD = "merchant-hooks", "s3cret-Pa55"
V2_KAT = "9929c780706b5bf0bc318a08ccec416dbd237862bbc95f2dffb5205743377711"
V2_KAT_OTHER_PASSWORD = "fef1e49f857cae4a89286246f05c843fe3fc98bc4abcc0ae07baed90a3a1ef35"  # s3cret-Pa56

# PhonePe PG v1: X-VERIFY = hex(SHA256(base64_body + salt_key)) + "###" + salt_index.
V1_SALT_KEY = "099eb0cd-02cf-4e2a-8aca-3e6c6aff0399"  # PhonePe's published UAT salt key
V1_BASE64 = (
    "eyJzdWNjZXNzIjp0cnVlLCJjb2RlIjoiUEFZTUVOVF9TVUNDRVNTIiwiZGF0YSI6eyJtZXJjaGFudFRyYW5zYWN0aW9uSWQiOiJvcmRfa2F0"
    "XzEiLCJ0cmFuc2FjdGlvbklkIjoiVDIzMTEyNjEyMzQiLCJhbW91bnQiOjEwMDAwLCJzdGF0ZSI6IkNPTVBMRVRFRCIsInBheW1lbnRJbnN0"
    "cnVtZW50Ijp7InR5cGUiOiJVUEkifX19"
)
V1_KAT = "28828188cf5b39e0b98d01e7ef13ffe992944df53780956fa8cd35fa908de5f9###1"

# RazorpayX: X-Razorpay-Signature = hex(HMAC_SHA256(webhook_secret, raw_body)).
RZP_SECRET = "whsec_kat_secret"
RZP_BODY = (
    b'{"event":"payout.processed","payload":{"payout":{"entity":{"id":"pout_KAT1","amount":10000,'
    b'"status":"processed","reference_id":"pay_kat_1","utr":"123456789012"}}}}'
)
RZP_KAT = "fdcbe4d829a36792136250aeb2ca022db391075d8fbc56a0bbf0e94780de2ae3"
RZP_KAT_TAMPERED = "d2fcc740dd347230ca1f6452a681c516bc7a3edc7794d34a44d0f8ebf1e89745"  # amount 10001


def _reason(call) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(WebhookRejected) as caught:
        call()
    return caught.value.reason


def test_phonepe_v2_known_answer() -> None:
    assert phonepe.v2_authorization(V2_USERNAME, V2_PASSWORD) == V2_KAT
    phonepe.verify_v2(V2_KAT, V2_USERNAME, V2_PASSWORD)
    phonepe.verify_v2(f"SHA256 {V2_KAT.upper()}", V2_USERNAME, V2_PASSWORD)


@pytest.mark.parametrize(
    ("header", "password", "reason"),
    [
        (V2_KAT, "s3cret-Pa56", "bad_signature"),  # wrong password
        (V2_KAT_OTHER_PASSWORD, V2_PASSWORD, "bad_signature"),
        (V2_KAT[:-1] + "0", V2_PASSWORD, "bad_signature"),
        ("", V2_PASSWORD, "missing_signature"),
        (None, V2_PASSWORD, "missing_signature"),
    ],
)
def test_phonepe_v2_refusals(header: str | None, password: str, reason: str) -> None:
    assert _reason(lambda: phonepe.verify_v2(header, V2_USERNAME, password)) == reason


def test_phonepe_v1_known_answer_and_parse() -> None:
    assert phonepe.v1_x_verify(V1_BASE64, V1_SALT_KEY, 1) == V1_KAT
    phonepe.verify_v1(V1_KAT, V1_BASE64, V1_SALT_KEY, 1)
    encoded, event = phonepe.parse_v1(b'{"response": "' + V1_BASE64.encode() + b'"}')
    assert encoded == V1_BASE64
    assert (event.event, event.merchant_order_id, event.amount_paise, event.payment_mode) == (
        "checkout.order.completed",
        "ord_kat_1",
        10000,
        "UPI",
    )


@pytest.mark.parametrize(
    ("header", "body", "salt_key", "salt_index", "reason"),
    [
        (V1_KAT, V1_BASE64, V1_SALT_KEY, 2, "bad_signature"),  # wrong salt index
        (V1_KAT.replace("###1", "###2"), V1_BASE64, V1_SALT_KEY, 1, "bad_signature"),
        (V1_KAT, V1_BASE64[:-4] + "fQ==", V1_SALT_KEY, 1, "bad_signature"),  # tampered body
        (V1_KAT, V1_BASE64, V1_SALT_KEY[:-1] + "8", 1, "bad_signature"),  # wrong salt key
        ("", V1_BASE64, V1_SALT_KEY, 1, "missing_signature"),
    ],
)
def test_phonepe_v1_refusals(header: str, body: str, salt_key: str, salt_index: int, reason: str) -> None:
    assert _reason(lambda: phonepe.verify_v1(header, body, salt_key, salt_index)) == reason


def test_razorpayx_known_answer_and_parse() -> None:
    assert razorpayx.signature(RZP_SECRET, RZP_BODY) == RZP_KAT
    razorpayx.verify(RZP_KAT, RZP_SECRET, RZP_BODY)
    razorpayx.verify(RZP_KAT.upper(), RZP_SECRET, RZP_BODY)
    event = razorpayx.parse(RZP_BODY, "evt_kat_1")
    assert (event.event_id, event.gateway_payout_id, event.amount_paise, event.utr) == (
        "evt_kat_1",
        "pout_KAT1",
        10000,
        "123456789012",
    )


@pytest.mark.parametrize(
    ("header", "secret", "body", "reason"),
    [
        (RZP_KAT, RZP_SECRET, RZP_BODY.replace(b"10000", b"10001"), "bad_signature"),  # tampered body
        (RZP_KAT_TAMPERED, RZP_SECRET, RZP_BODY, "bad_signature"),
        (RZP_KAT, "whsec_other", RZP_BODY, "bad_signature"),  # wrong secret
        ("", RZP_SECRET, RZP_BODY, "missing_signature"),
        (None, RZP_SECRET, RZP_BODY, "missing_signature"),
    ],
)
def test_razorpayx_refusals(header: str | None, secret: str, body: bytes, reason: str) -> None:
    assert _reason(lambda: razorpayx.verify(header, secret, body)) == reason


def test_tampered_kat_matches_the_tampered_body() -> None:
    assert razorpayx.signature(RZP_SECRET, RZP_BODY.replace(b"10000", b"10001")) == RZP_KAT_TAMPERED


def test_razorpayx_event_needs_an_event_id() -> None:
    assert _reason(lambda: razorpayx.parse(RZP_BODY, None)) == "missing_event_id"
    assert _reason(lambda: razorpayx.parse(RZP_BODY, "")) == "missing_event_id"
