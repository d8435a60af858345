"""Dispatcher tests run on a database of their own: a dispatcher sends every due delivery it finds,
and the shared test database holds other tests' committed outbox rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from domain.notifications.dispatch import DispatchOptions
from domain.platform.database import create_engine
from domain.platform.migrations import upgrade
from domain.platform.settings import Settings
from gateways.smtp.client import SmtpChannel


@pytest.fixture
def notify_url(make_database) -> str:  # type: ignore[no-untyped-def]
    url: str = make_database("notify")
    upgrade(url)
    return url


@pytest.fixture
def notify_engine(notify_url: str) -> Iterator[sa.Engine]:
    engine = create_engine(notify_url)
    yield engine
    engine.dispose()


@pytest.fixture
def notify_settings(notify_url: str, smtp_server, settings: Settings) -> Settings:  # type: ignore[no-untyped-def]
    host, port, _ = smtp_server
    return settings.model_copy(
        update={
            "database_url": notify_url,
            "smtp_host": host,
            "smtp_port": port,
            "notification_backoff_base_s": 0.01,
            "notification_backoff_max_s": 0.01,
        }
    )


@pytest.fixture
def options(notify_settings: Settings) -> DispatchOptions:
    return DispatchOptions.from_settings(notify_settings)


@pytest.fixture
def channels(notify_settings: Settings):  # type: ignore[no-untyped-def]
    from domain.notifications.channels import InAppChannel

    return {"email": SmtpChannel.from_settings(notify_settings), "in_app": InAppChannel()}


@pytest.fixture
def add_user(notify_engine: sa.Engine):  # type: ignore[no-untyped-def]
    def add(role: str = "seller", email: str = "seller@example.in", name: str = "Asha Traders") -> str:
        user_id = f"usr_{uuid.uuid4().hex[:16]}"
        with notify_engine.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO users (user_id, role, name, email) VALUES (:id, :role, :name, :email)"),
                {"id": user_id, "role": role, "name": name, "email": email},
            )
        return user_id

    return add
