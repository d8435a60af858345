"""Typed Dagster resources used by the assets; `pipelines/definitions.py` instantiates them.

Secrets arrive as `dg.EnvVar` from definitions.py, never as literals.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import sqlalchemy as sa
from pydantic import PrivateAttr, SecretStr

from domain.platform.database import create_engine, database_url
from domain.platform.settings import Settings, load_settings
from gateways.http import HttpOptions
from gateways.phonepe.client import PhonePeClient
from gateways.razorpayx.client import RazorpayXClient
from gateways.smtp.client import SmtpChannel


class SettingsResource(dg.ConfigurableResource):
    """The application settings, read once per run from the environment."""

    def get(self) -> Settings:
        return load_settings()


class PostgresResource(dg.ConfigurableResource):
    """The system of record. Unset `url` means DATABASE_URL or the embedded server."""

    url: str = ""
    statement_timeout_ms: int = 600_000
    _engine: sa.Engine | None = PrivateAttr(default=None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        url = self.url or database_url(load_settings())
        self._engine = create_engine(url, connect_args={"options": f"-c statement_timeout={self.statement_timeout_ms}"})

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._engine is not None:
            self._engine.dispose()

    @property
    def engine(self) -> sa.Engine:
        assert self._engine is not None, "resource used outside a run"
        return self._engine

    @property
    def url_string(self) -> str:
        """The database URL, password included, for workflows that open their own engine."""
        return self.engine.url.render_as_string(hide_password=False)

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        with self.engine.begin() as conn:
            yield conn


class PaymentsGatewayResource(dg.ConfigurableResource):
    """PhonePe (or the sandbox, by base URL). The secret arrives as `dg.EnvVar`."""

    base_url: str
    client_id: str
    client_secret: str
    client_version: int = 1
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    concurrency: int = 16

    def client(self) -> PhonePeClient:
        return self._client(self.concurrency)

    def status_client(self, concurrency: int) -> PhonePeClient:
        """For the payment confirmation: no retries of its own (every request passes the workflow's
        rate limiter, and a retry is a later check) and a pooled connection per worker."""
        return self._client(max(self.concurrency, concurrency), read_retries=0)

    def _client(self, pool_size: int, *, read_retries: int | None = None) -> PhonePeClient:
        http = HttpOptions(
            connect_timeout_s=self.connect_timeout_s, read_timeout_s=self.read_timeout_s, pool_size=pool_size
        )
        if read_retries is not None:
            http = dataclasses.replace(http, read_retries=read_retries)
        return PhonePeClient(
            self.base_url,
            self.client_id,
            self.client_secret,
            self.client_version,
            options=http,
            concurrency=self.concurrency,
        )


class PayoutsGatewayResource(dg.ConfigurableResource):
    """RazorpayX (or the sandbox, by base URL). The key secret arrives as `dg.EnvVar`."""

    base_url: str
    key_id: str
    key_secret: str
    account_number: str
    connect_timeout_s: float = 3.0
    read_timeout_s: float = 10.0
    pool_size: int = 16

    def client(self) -> RazorpayXClient:
        return RazorpayXClient(
            self.base_url,
            self.key_id,
            self.key_secret,
            self.account_number,
            options=HttpOptions(
                connect_timeout_s=self.connect_timeout_s,
                read_timeout_s=self.read_timeout_s,
                pool_size=self.pool_size,
            ),
        )


class EmailChannelResource(dg.ConfigurableResource):
    """The SMTP server notifications are emailed through: SMTP_* settings, the password as `dg.EnvVar`
    (empty when the server takes no AUTH)."""

    password: str = ""

    def channel(self, settings: Settings) -> SmtpChannel:
        secret = SecretStr(self.password) if self.password else None
        return SmtpChannel.from_settings(settings.model_copy(update={"smtp_password": secret}))
