"""The sandbox behind its HTTP endpoints, composed of one part per role over one database:

- `phonepe.PhonePe`: OAuth tokens, payments, order status, refunds and the settlement report;
- `razorpayx.RazorpayX`: payouts, and the account statement crediting what PhonePe's reports settle;
- `outbox.Outbox` and `outbox.Worker`: the webhooks those two enqueue, and the background thread
  that finishes their accepted refunds and payouts and delivers the webhooks.

`Sandbox` owns what they share: the live config (replaced by the admin API, restored by `reset`)
and the lifecycle of the schema and the worker.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa

from domain.platform.settings import Settings
from gateways.sandbox import store
from gateways.sandbox.config import SandboxConfig
from gateways.sandbox.outbox import Outbox, Worker
from gateways.sandbox.phonepe import PhonePe
from gateways.sandbox.razorpayx import RazorpayX

RESET_ATTEMPTS = 5


class Sandbox:
    """The parts wired together; `app.create_app` serves them and starts and stops it with the app."""

    def __init__(self, settings: Settings, engine: sa.Engine, config: SandboxConfig) -> None:
        self.engine = engine
        self.initial_config = config
        self.config = config
        self.outbox = Outbox(settings, engine, self._current_config)
        self.phonepe = PhonePe(settings, engine, self.outbox, self._current_config)
        self.razorpayx = RazorpayX(
            settings, engine, self.outbox, self._current_config, settlement_report=self.phonepe.settlement_report
        )
        self.worker = Worker(engine, self.outbox, settlers=(self.razorpayx, self.phonepe))

    def _current_config(self) -> SandboxConfig:
        """The parts read the config through this on every use, so a replaced config reaches them all."""
        return self.config

    def start(self) -> None:
        store.create_schema(self.engine)
        self.worker.start()

    def stop(self) -> None:
        self.worker.stop()
        self.outbox.close()

    def reset(self) -> None:
        """Forget everything; the worker is paused meanwhile, and a deadlock with a late request is retried."""
        with self.worker.paused():
            for attempt in range(RESET_ATTEMPTS):
                try:
                    with self.engine.begin() as conn:
                        store.truncate_all(conn)
                    break
                except sa.exc.OperationalError:
                    if attempt == RESET_ATTEMPTS - 1:
                        raise
                    time.sleep(0.05)
            self.config = self.initial_config

    def update_config(self, changes: dict[str, Any]) -> SandboxConfig:
        """Replace the given fields; the worker is woken since due times and outcomes may have changed."""
        self.config = SandboxConfig.model_validate({**self.config.model_dump(), **changes})
        self.outbox.wake()
        return self.config
