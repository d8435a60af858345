"""The gateway sandbox for any test: one uvicorn server per session on a free loopback port.

`sandbox` (per test) resets the sandbox's state, faults and config, and yields a `SandboxHandle`
with the base URL, real `PhonePeClient` / `RazorpayXClient` pointed at it, a webhook receiver that
the sandbox posts to by default, and admin helpers. Point the webhooks elsewhere with
`sandbox.configure(phonepe_webhook_url=..., razorpayx_webhook_url=...)`.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests
import uvicorn

from domain.platform.settings import Settings
from gateways.http import HttpOptions
from gateways.phonepe.client import PhonePeClient
from gateways.razorpayx.client import RazorpayXClient
from gateways.sandbox import SandboxConfig, create_app


@dataclass(frozen=True)
class ReceivedWebhook:
    path: str
    headers: dict[str, str]
    body: bytes


class WebhookReceiver:
    """A tiny HTTP server that records every POST and answers `status` (200 unless changed)."""

    def __init__(self) -> None:
        self.received: list[ReceivedWebhook] = []
        self.status = 200
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(ReceivedWebhook(self.path, dict(self.headers.items()), body))
                    status = receiver.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
            self.status = 200

    def for_path(self, path: str) -> list[ReceivedWebhook]:
        with self._lock:
            return [hook for hook in self.received if hook.path == path]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class SandboxHandle:
    base_url: str
    settings: Settings
    receiver: WebhookReceiver
    phonepe: PhonePeClient = field(init=False)
    razorpayx: RazorpayXClient = field(init=False)

    def __post_init__(self) -> None:
        self.phonepe = self.phonepe_client()
        self.razorpayx = self.razorpayx_client()

    def phonepe_client(self, **options: Any) -> PhonePeClient:
        """A client with its own connection pool; `options` override HttpOptions (timeouts, retries)."""
        return PhonePeClient.from_settings(self.settings, options=self._options(**options))

    def razorpayx_client(self, **options: Any) -> RazorpayXClient:
        return RazorpayXClient.from_settings(self.settings, options=self._options(**options))

    def _options(self, **options: Any) -> HttpOptions:
        defaults: dict[str, Any] = {"connect_timeout_s": 2.0, "read_timeout_s": 5.0, "backoff_base_s": 0.01}
        return HttpOptions(**{**defaults, **options})

    def admin(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return requests.request(method, f"{self.base_url}/sandbox{path}", timeout=30, **kwargs)

    def _ok(self, response: requests.Response) -> Any:
        assert response.status_code == 200, response.text
        return response.json()

    def pay(self, merchant_order_id: str, amount_paise: int, outcome: str = "COMPLETED", **extra: Any) -> Any:
        body = {"merchantOrderId": merchant_order_id, "amount": amount_paise, "outcome": outcome, **extra}
        return self._ok(self.admin("POST", "/payments", json=body))

    def set_faults(self, endpoints: dict[str, dict[str, Any]], seed: int = 0) -> Any:
        return self._ok(self.admin("PUT", "/faults", json={"seed": seed, "endpoints": endpoints}))

    def configure(self, **changes: Any) -> Any:
        return self._ok(self.admin("PUT", "/config", json=changes))

    def payouts(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._ok(self.admin("GET", "/payouts"))
        return result

    def refunds(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._ok(self.admin("GET", "/refunds"))
        return result

    def webhooks(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self._ok(self.admin("GET", "/webhooks"))
        return result

    def flush(self, timeout_s: float = 10.0) -> None:
        """Wait until every pending payout, refund and webhook delivery is done."""
        self._ok(self.admin("POST", "/webhooks/flush", params={"timeout_s": timeout_s}))

    def reset(self) -> None:
        self._ok(self.admin("POST", "/reset"))
        self.receiver.clear()


@pytest.fixture(scope="session")
def sandbox_server(make_database, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxHandle]:  # type: ignore[no-untyped-def]
    db_url = make_database("gateway_sandbox")
    receiver = WebhookReceiver()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    base_url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    settings = Settings(
        environment="test",
        database_url=db_url,
        data_dir=tmp_path_factory.mktemp("sandbox"),
        log_format="console",
        phonepe_base_url=f"{base_url}/phonepe",
        razorpayx_base_url=f"{base_url}/razorpayx",
        api_public_url=receiver.url,
    )
    config = SandboxConfig(
        phonepe_webhook_url=f"{receiver.url}/phonepe", razorpayx_webhook_url=f"{receiver.url}/razorpayx"
    )
    app = create_app(settings, db_url=db_url, config=config)
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="on", timeout_graceful_shutdown=2)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the gateway sandbox did not start")
        time.sleep(0.02)
    handle = SandboxHandle(base_url, settings, receiver)
    try:
        yield handle
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
        receiver.close()


@pytest.fixture
def sandbox(sandbox_server: SandboxHandle) -> SandboxHandle:
    sandbox_server.reset()
    return sandbox_server
