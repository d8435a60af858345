"""Accounting scenarios: each test gets its own database cloned from a migrated template (`books`),
so it can assert every account's exact balance, and runs the real jobs against the sandbox over HTTP."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator

import dagster as dg
import pytest
import sqlalchemy as sa

from domain.fees.schedule import seed_fee_schedule
from domain.outbox import outbox
from domain.platform.database import create_engine, with_database
from domain.platform.migrations import upgrade
from domain.platform.settings import Settings
from pipelines.instance import resource_environment
from tests.sandbox_fixtures import SandboxHandle
from tests.scenarios.books import Books


@pytest.fixture(scope="session")
def template_database(make_database, settings: Settings) -> str:  # type: ignore[no-untyped-def]
    url: str = make_database("settle_template")
    upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        seed_fee_schedule(conn, settings)
    engine.dispose()
    return url


@pytest.fixture
def books(
    template_database: str, server_url: str, sandbox: SandboxHandle, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Books]:
    name = f"scenario_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    template = sa.engine.make_url(template_database).database
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = with_database(template_database, name)
    for variable, value in resource_environment(sandbox.settings.model_copy(update={"database_url": url})).items():
        monkeypatch.setenv(variable, value)
    engine = create_engine(url)
    with tempfile.TemporaryDirectory() as home, dg.DagsterInstance.ephemeral(tempdir=home) as instance:
        yield Books(engine, sandbox, instance)
    with engine.connect() as conn:
        assert outbox.nonconforming(conn) == [], "an outbox row is not an event of the catalogue"
    engine.dispose()
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
