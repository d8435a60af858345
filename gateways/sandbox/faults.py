"""Fault injection in front of the sandbox's gateway endpoints (an ASGI middleware, outermost).

Each endpoint has its own generator seeded from (seed, endpoint), so the same sequence of calls sees
the same faults in every run. `timeout` and `drop_response` let the request act first (a payout is
made, a refund recorded) and then withhold the answer: exactly the case the clients must report as
an unknown outcome.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import socket
import struct
import threading
from typing import Any

import structlog

from gateways.sandbox.config import Endpoint, FaultConfig, FaultSpec

log = structlog.get_logger(__name__)

ROUTES: tuple[tuple[str, re.Pattern[str], Endpoint], ...] = (
    ("POST", re.compile(r"/phonepe/v1/oauth/token"), "oauth"),
    ("GET", re.compile(r"/phonepe/checkout/v2/order/[^/]+/status"), "order_status"),
    ("POST", re.compile(r"/phonepe/payments/v2/refund"), "refund_create"),
    ("GET", re.compile(r"/phonepe/payments/v2/refund/[^/]+/status"), "refund_status"),
    ("GET", re.compile(r"/phonepe/v1/reports/settlement"), "settlement_report"),
    ("POST", re.compile(r"/razorpayx/v1/payouts"), "payout_create"),
    ("GET", re.compile(r"/razorpayx/v1/payouts/[^/]+"), "payout_fetch"),
    ("GET", re.compile(r"/razorpayx/v1/payouts"), "payout_list"),
    ("GET", re.compile(r"/razorpayx/v1/transactions"), "account_statement"),
)


def endpoint_of(method: str, path: str) -> Endpoint | None:
    for route_method, pattern, name in ROUTES:
        if method == route_method and pattern.fullmatch(path):
            return name
    return None


class FaultInjector:
    """The current fault configuration and its seeded generators; safe to reconfigure while serving."""

    def __init__(self, config: FaultConfig | None = None) -> None:
        self._lock = threading.Lock()
        self.initial = config or FaultConfig()
        self.configure(self.initial)

    def configure(self, config: FaultConfig) -> None:
        with self._lock:
            self.config = config
            self._random = {name: random.Random(f"{config.seed}:{name}") for name in config.endpoints}
            self._injected = dict.fromkeys(config.endpoints, 0)

    def decide(self, endpoint: Endpoint) -> tuple[FaultSpec | None, str | None]:
        with self._lock:
            spec = self.config.endpoints.get(endpoint)
            if spec is None:
                return None, None
            draw = self._random[endpoint].random()
            action = None
            threshold = 0.0
            for name, rate in (
                ("error", spec.error_rate),
                ("rate_limit", spec.rate_limit_rate),
                ("timeout", spec.timeout_rate),
                ("drop_response", spec.drop_response_rate),
            ):
                threshold += rate
                if draw < threshold:
                    action = name
                    break
            if action is not None:
                if spec.limit is not None and self._injected[endpoint] >= spec.limit:
                    action = None
                else:
                    self._injected[endpoint] += 1
            return spec, action


class FaultMiddleware:
    def __init__(self, app: Any, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        endpoint = endpoint_of(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        if endpoint is None:
            await self.app(scope, receive, send)
            return
        spec, action = self.injector.decide(endpoint)
        if spec is None:
            await self.app(scope, receive, send)
            return
        if spec.latency_ms:
            await asyncio.sleep(spec.latency_ms / 1000)
        if action is not None:
            log.info("sandbox_fault", endpoint=endpoint, fault=action)
        if action == "error":
            await _send_error(send, scope["path"], spec.error_status, None)
        elif action == "rate_limit":
            await _send_error(send, scope["path"], 429, spec.retry_after_s)
        elif action in ("timeout", "drop_response"):
            held: list[dict[str, Any]] = []

            async def hold(message: dict[str, Any]) -> None:
                held.append(message)

            await self.app(scope, receive, hold)
            if action == "drop_response" and await _reset_connection(send):
                return
            await asyncio.sleep(spec.timeout_ms / 1000)
            for message in held:
                await send(message)
        else:
            await self.app(scope, receive, send)


async def _reset_connection(send: Any) -> bool:
    """Abort the TCP connection (RST) without answering; False if the server gives no handle on it."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if cycle is None or transport is None:
        return False
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
    cycle.disconnected = True
    await asyncio.sleep(0)
    return True


async def _send_error(send: Any, path: str, status: int, retry_after_s: int | None) -> None:
    if path.startswith("/razorpayx"):
        code = "SERVER_ERROR" if status >= 500 else "BAD_REQUEST_ERROR"
        body: dict[str, Any] = {
            "error": {
                "code": code,
                "description": "Too many requests" if status == 429 else "Injected failure",
                "reason": "sandbox_fault",
                "source": "sandbox",
                "field": None,
            }
        }
    else:
        code = "TOO_MANY_REQUESTS" if status == 429 else ("INTERNAL_SERVER_ERROR" if status >= 500 else "BAD_REQUEST")
        body = {"success": False, "code": code, "message": "Injected failure"}
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if retry_after_s is not None:
        headers.append((b"retry-after", str(retry_after_s).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
