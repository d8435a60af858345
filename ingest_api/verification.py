"""Webhook verification as dependencies: a route receives only a verified, parsed delivery.

A rejected delivery is stored (its own committed transaction, so the later 401 cannot roll it
back), counted, and answered 401 with `webhook_rejected`. Webhooks carry no API key; they are rate
limited per source address instead.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from domain.payouts.gateway import PayoutEvent
from domain.platform.gateway_errors import WebhookRejected
from domain.platform.settings import Settings
from domain.webhooks import store as webhook_store
from gateways.phonepe import webhooks as phonepe_webhooks
from gateways.phonepe.webhooks import PhonePeEvent
from gateways.razorpayx import webhooks as razorpayx_webhooks
from ingest_api.auth import enforce_rate_limit
from ingest_api.errors import ApiError
from ingest_api.metrics import WEBHOOK_VERDICTS

_KEPT_HEADERS = ("content-type", "content-length", "user-agent", "x-request-id", "x-razorpay-event-id")
_SECRET_HEADERS = ("authorization", "x-verify", "x-razorpay-signature")


@dataclass(frozen=True, slots=True)
class Delivery:
    """What every stored attempt records besides its verdict."""

    source: str
    raw_body: bytes
    headers: dict[str, str]
    source_address: str | None

    def row(self, **values: object) -> dict[str, object]:
        return {
            "source": self.source,
            "raw_body": self.raw_body,
            "headers": self.headers,
            "source_address": self.source_address,
            **values,
        }


@dataclass(frozen=True, slots=True)
class PhonePeDelivery(Delivery):
    event: PhonePeEvent | None = None


@dataclass(frozen=True, slots=True)
class RazorpayXDelivery(Delivery):
    event: PayoutEvent | None = None


def _source_address(request: Request) -> str | None:
    host = request.client.host if request.client else None
    try:
        return str(ipaddress.ip_address(host)) if host else None
    except ValueError:
        return None


def _headers(request: Request) -> dict[str, str]:
    """Headers worth keeping for an investigation; signatures only as present/absent."""
    kept = {name: request.headers[name][:256] for name in _KEPT_HEADERS if name in request.headers}
    kept.update({name: "[present]" for name in _SECRET_HEADERS if name in request.headers})
    return kept


async def _delivery(request: Request, source: str) -> Delivery:
    address = _source_address(request)
    settings: Settings = request.app.state.settings
    limit = settings.rate_limit_webhook_per_address_per_minute
    await enforce_rate_limit(request, f"addr:{address or 'unknown'}", limit, "webhook_address")
    return Delivery(source, await request.body(), _headers(request), address)


def _store_rejection(engine: sa.Engine, delivery: Delivery, reason: str) -> None:
    with engine.begin() as conn:
        webhook_store.record(conn, **delivery.row(verdict="rejected", reason=reason))


async def _reject(request: Request, delivery: Delivery, rejected: WebhookRejected) -> ApiError:
    await run_in_threadpool(_store_rejection, request.app.state.autocommit_engine, delivery, rejected.reason)
    WEBHOOK_VERDICTS.labels(delivery.source, "rejected", rejected.reason).inc()
    return ApiError("webhook_rejected", f"Webhook rejected: {rejected.reason}.")


def _verify_phonepe(settings: Settings, request: Request, raw: bytes) -> PhonePeEvent:
    """v1 callbacks carry X-VERIFY over the base64 body; v2 webhooks a static Authorization hash."""
    x_verify = request.headers.get("x-verify")
    if x_verify is not None:
        encoded, event = phonepe_webhooks.parse_v1(raw)
        phonepe_webhooks.verify_v1(
            x_verify, encoded, settings.phonepe_salt_key.get_secret_value(), settings.phonepe_salt_index
        )
        return event
    phonepe_webhooks.verify_v2(
        request.headers.get("authorization"),
        settings.phonepe_webhook_username,
        settings.phonepe_webhook_password.get_secret_value(),
    )
    return phonepe_webhooks.parse_v2(raw)


async def verified_phonepe(request: Request) -> PhonePeDelivery:
    delivery = await _delivery(request, "phonepe")
    try:
        event = _verify_phonepe(request.app.state.settings, request, delivery.raw_body)
    except WebhookRejected as rejected:
        raise await _reject(request, delivery, rejected) from None
    return PhonePeDelivery(delivery.source, delivery.raw_body, delivery.headers, delivery.source_address, event)


async def verified_razorpayx(request: Request) -> RazorpayXDelivery:
    delivery = await _delivery(request, "razorpayx")
    settings: Settings = request.app.state.settings
    try:
        razorpayx_webhooks.verify(
            request.headers.get("x-razorpay-signature"),
            settings.razorpayx_webhook_secret.get_secret_value(),
            delivery.raw_body,
        )
        event = razorpayx_webhooks.parse(delivery.raw_body, request.headers.get("x-razorpay-event-id"))
    except WebhookRejected as rejected:
        raise await _reject(request, delivery, rejected) from None
    return RazorpayXDelivery(delivery.source, delivery.raw_body, delivery.headers, delivery.source_address, event)
