"""The sandbox's webhook outbox and the one background worker that drains it.

A gateway part enqueues a webhook in the transaction of the state change it reports, so the call
that triggered it returns before it is sent, as with the real gateways. The worker also finishes the
payouts and refunds whose simulated processing time is up (each gateway part is a `Settler`), then
delivers the due webhooks, signed as their gateway signs them. `wait_idle` lets tests and the demo
wait until nothing is left to do.
"""

from __future__ import annotations

import functools
import json
import operator
import random
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import requests
import sqlalchemy as sa
import structlog

from domain.platform.settings import Settings
from gateways.phonepe.webhooks import v2_authorization
from gateways.razorpayx.webhooks import signature
from gateways.sandbox import store
from gateways.sandbox.config import ConfigSource, SandboxConfig

log = structlog.get_logger(__name__)


class Settler(Protocol):
    """A gateway part whose requests are accepted first and finished later by the worker."""

    def finish_due(self, conn: sa.Connection, now: int) -> int:
        """Finish the requests due by `now` and enqueue their webhooks; how many were finished."""

    def unfinished(self) -> sa.ScalarSelect[int]:
        """A count of the requests the worker will finish, for `Worker.pending_work`."""


@dataclass
class Delivery:
    """A due webhook, read apart from its row so that no transaction is open while it is posted."""

    webhook_id: int
    gateway: str
    event_id: str
    url: str
    body: str
    attempts: int


class Outbox:
    """The webhooks table: what is enqueued, when it is due, and how each delivery went."""

    def __init__(self, settings: Settings, engine: sa.Engine, config: ConfigSource) -> None:
        self._settings = settings
        self._engine = engine
        self._config = config
        self._wake = threading.Event()
        self._http = requests.Session()

    def wake(self) -> None:
        """Have the worker look for work now rather than at its next poll."""
        self._wake.set()

    def wait_for_wake(self, timeout_s: float) -> None:
        """Sleep until `wake` is called or `timeout_s` passes."""
        self._wake.wait(timeout_s)
        self._wake.clear()

    def close(self) -> None:
        self._http.close()

    def enqueue(self, conn: sa.Connection, gateway: str, event: str, subject: str, body: dict[str, Any]) -> None:
        """Queue one webhook (two when the config's duplicate rate picks it) in the caller's transaction."""
        config = self._config()
        url = config.phonepe_webhook_url if gateway == "phonepe" else config.razorpayx_webhook_url
        event_id = store.random_id("evt_")
        now = store.now_ms()
        row: dict[str, Any] = {
            "gateway": gateway,
            "event": event,
            "event_id": event_id,
            "subject": subject,
            "url": url,
            "body": json.dumps(body, separators=(",", ":")),
            "headers": {},
            "due_at_ms": now + config.webhook_delay_ms,
            "created_at_ms": now,
            "last_error": None if url else "no webhook URL configured",
        }
        conn.execute(store.webhooks.insert(), [row] * _copies(config, event_id))
        self.wake()

    def undelivered(self) -> sa.ScalarSelect[int]:
        """A count of the webhooks still to be delivered, for `Worker.pending_work`."""
        return sa.select(sa.func.count()).where(self._deliverable()).scalar_subquery()

    def due_deliveries(self, now: int) -> list[Delivery]:
        """Due webhooks, oldest first; out of order, the whole backlog newest first once all of it is due."""
        w = store.webhooks.c
        out_of_order = self._config().webhook_out_of_order
        deliverable = self._deliverable()
        with self._engine.connect() as conn:
            if out_of_order:
                latest = conn.execute(sa.select(sa.func.max(w.due_at_ms)).where(deliverable)).scalar_one()
                if latest is None or latest > now:
                    return []
            rows = conn.execute(
                sa.select(w.webhook_id, w.gateway, w.event_id, w.url, w.body, w.attempts)
                .where(deliverable, w.due_at_ms <= now)
                .order_by(w.webhook_id.desc() if out_of_order else w.webhook_id)
                .limit(100)
            ).all()
        return [Delivery(*row) for row in rows]

    def deliver(self, delivery: Delivery) -> None:
        """POST one webhook and record the answer; a failure is retried after an exponential backoff."""
        raw = delivery.body.encode()
        status, error = self._post(delivery, raw)
        now = store.now_ms()
        values: dict[str, Any] = {"attempts": delivery.attempts + 1, "last_status": status, "last_error": error}
        if error is None:
            values["delivered_at_ms"] = now
        else:
            values["due_at_ms"] = now + self._config().webhook_retry_ms * 2**delivery.attempts
        with self._engine.begin() as conn:
            conn.execute(
                store.webhooks.update().where(store.webhooks.c.webhook_id == delivery.webhook_id).values(**values)
            )
        log.info(
            "sandbox_webhook", gateway=delivery.gateway, webhook_id=delivery.webhook_id, status=status, error=error
        )

    def view(self) -> list[dict[str, Any]]:
        """Every webhook and how its deliveries went, for the admin API."""
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(store.webhooks).order_by(store.webhooks.c.webhook_id)).all()
        return [
            {
                "webhook_id": row.webhook_id,
                "gateway": row.gateway,
                "event": row.event,
                "event_id": row.event_id,
                "subject": row.subject,
                "url": row.url,
                "attempts": row.attempts,
                "delivered": row.delivered_at_ms is not None,
                "delivered_at_ms": row.delivered_at_ms,
                "last_status": row.last_status,
                "last_error": row.last_error,
            }
            for row in rows
        ]

    def _deliverable(self) -> sa.ColumnElement[bool]:
        """Webhooks with somewhere to go, not delivered yet and with attempts left."""
        w = store.webhooks.c
        return sa.and_(
            w.url.is_not(None), w.delivered_at_ms.is_(None), w.attempts < self._config().webhook_max_attempts
        )

    def _post(self, delivery: Delivery, raw: bytes) -> tuple[int | None, str | None]:
        """The HTTP status (None when there was no answer) and the error, None on a 2xx."""
        headers = self._headers(delivery, raw)
        timeout_s = self._config().webhook_timeout_s
        try:
            response = self._http.post(delivery.url, data=raw, headers=headers, timeout=timeout_s)
        except requests.RequestException as exc:
            return None, type(exc).__name__
        status = response.status_code
        return status, None if 200 <= status < 300 else f"HTTP {status}"

    def _headers(self, delivery: Delivery, raw: bytes) -> dict[str, str]:
        """PhonePe's v2 Authorization, or RazorpayX's body signature and event id (its dedupe key)."""
        settings = self._settings
        headers = {"Content-Type": "application/json"}
        if delivery.gateway == "phonepe":
            headers["Authorization"] = v2_authorization(
                settings.phonepe_webhook_username, settings.phonepe_webhook_password.get_secret_value()
            )
        else:
            headers["X-Razorpay-Signature"] = signature(settings.razorpayx_webhook_secret.get_secret_value(), raw)
            headers["X-Razorpay-Event-Id"] = delivery.event_id
        return headers


def _copies(config: SandboxConfig, event_id: str) -> int:
    """2 when the seeded draw for this event falls under the duplicate rate, so reruns duplicate alike."""
    draw = random.Random(f"{config.seed}:duplicate:{event_id}").random()
    return 2 if draw < config.webhook_duplicate_rate else 1


class Worker:
    """The sandbox's background thread: finishes due payouts and refunds, then delivers due webhooks."""

    def __init__(self, engine: sa.Engine, outbox: Outbox, settlers: Sequence[Settler]) -> None:
        self._engine = engine
        self._outbox = outbox
        self._settlers = settlers
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="sandbox-worker", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._outbox.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)

    @contextmanager
    def paused(self) -> Iterator[None]:
        """Hold the worker between ticks, so that a reset never runs beside a tick's transaction."""
        with self._lock:
            yield

    def tick(self) -> bool:
        """Finish due payouts and refunds, then deliver due webhooks; True if anything happened."""
        now = store.now_ms()
        with self._engine.begin() as conn:
            finished = sum(settler.finish_due(conn, now) for settler in self._settlers)
        deliveries = self._outbox.due_deliveries(now)
        for delivery in deliveries:
            if self._stop.is_set():
                break
            self._outbox.deliver(delivery)
        return bool(finished or deliveries)

    def pending_work(self) -> int:
        """Payouts, refunds and webhooks the worker has still to finish, counted in one statement."""
        counts = [*(settler.unfinished() for settler in self._settlers), self._outbox.undelivered()]
        total = functools.reduce(operator.add, counts)
        with self._engine.connect() as conn:
            return int(conn.execute(sa.select(total)).scalar_one())

    def wait_idle(self, timeout_s: float) -> bool:
        """Block until no payout, refund or webhook is waiting; False if `timeout_s` passed first."""
        deadline = time.monotonic() + timeout_s
        while True:
            self._outbox.wake()
            if self.pending_work() == 0:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.02)

    def _run(self) -> None:
        """Tick until stopped; sleep between ticks only when one found nothing, and back off after an error."""
        while not self._stop.is_set():
            try:
                with self._lock:
                    busy = self.tick()
            except Exception:
                log.exception("sandbox_worker_failed")
                busy = False
                self._stop.wait(0.5)
            if not busy:
                self._outbox.wait_for_wake(0.05)
