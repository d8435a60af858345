"""The API skeleton: liveness, readiness with reason codes, request ids and the one error shape."""

from __future__ import annotations

import json

import pytest
import structlog
from fastapi.testclient import TestClient

from domain.platform.database import create_engine
from domain.platform.settings import Settings
from ingest_api.app import create_app


@pytest.fixture(scope="module")
def client(settings: Settings) -> TestClient:
    return TestClient(create_app(settings))


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


def test_readyz_at_head(client: TestClient) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_readyz_reports_pending_migrations(settings: Settings, make_database) -> None:  # type: ignore[no-untyped-def]
    empty = make_database("unmigrated")
    app = create_app(settings.model_copy(update={"database_url": empty}))
    response = TestClient(app).get("/readyz")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "migrations_pending"


def test_readyz_reports_unreachable_database(settings: Settings) -> None:
    app = create_app(settings)
    app.state.engine = create_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    response = TestClient(app).get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["error"]["code"] == "database_unavailable"
    assert "127.0.0.1" not in response.text and "psycopg2" not in response.text


def test_request_id_is_returned_and_logged(client: TestClient) -> None:
    with structlog.testing.capture_logs() as logs:
        response = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert response.headers["X-Request-ID"] == "abc-123"
    assert [(entry["event"], entry["request_id"], entry["status"]) for entry in logs] == [("request", "abc-123", 200)]


def test_unsafe_request_id_is_replaced(client: TestClient) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": "x" * 200})
    assert len(response.headers["X-Request-ID"]) == 32


def test_unknown_route_uses_the_error_shape(client: TestClient) -> None:
    response = client.get("/nope", headers={"X-Request-ID": "r1"})
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "No such resource.", "request_id": "r1"}}


def test_openapi_is_served(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    schema = client.get("/openapi.json").json()
    assert "/readyz" in schema["paths"]
    json.dumps(schema)


def test_every_v1_operation_documents_the_503(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    operations = [(path, method, op) for path, item in schema["paths"].items() for method, op in item.items()]
    v1 = [(path, method, op) for path, method, op in operations if path.startswith("/v1/")]
    assert len(v1) >= 10
    assert [(path, method) for path, method, op in v1 if "503" not in op["responses"]] == []
    assert v1[0][2]["responses"]["503"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


def test_lost_database_is_a_503_with_retry_after(settings: Settings) -> None:
    app = create_app(settings)
    unreachable = create_engine("postgresql+psycopg2://nobody@127.0.0.1:1/none", pool_pre_ping=False)
    app.state.engine = app.state.autocommit_engine = unreachable
    app.state.api_key_cache._engine = unreachable
    response = TestClient(app).get("/v1/orders/ord_1", headers={"Authorization": "Bearer some-key"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert response.json()["error"]["code"] == "database_unavailable"
    assert "psycopg2" not in response.text and "127.0.0.1" not in response.text
