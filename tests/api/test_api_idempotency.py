"""Every POST that creates something is idempotent, one way (`domain.platform.idempotency`): users,
withdrawal requests, refunds and order events. The same Idempotency-Key and body replay the first answer
(status and body) and create nothing; another body under the key is 409; no key is 400; concurrent
identical requests create one row. `POST /v1/orders` has its own tests in test_api_orders.py."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa

from tests import factories


@dataclass(frozen=True)
class Creation:
    """One creating route, set up for one test: where to post, a body, another body, and how to count
    what the route created for this test (rows of its table for the test's own user or order)."""

    path: str
    body: dict[str, Any]
    other_body: dict[str, Any]
    count_sql: str
    count_params: dict[str, str]
    status: int = 201


def _user(make_user, engine) -> Creation:  # type: ignore[no-untyped-def]
    email = f"{uuid.uuid4().hex[:12]}@example.in"  # this test's registrations, whatever the key
    body = {"role": "seller", "name": "Asha", "email": email, "payout_destination": {"vpa": "asha@okaxis"}}
    return Creation("/v1/users", body, {**body, "name": "Asha Devi"},
                    "SELECT count(*) FROM users WHERE email = :e", {"e": email})  # fmt: skip


def _withdrawal(make_user, engine) -> Creation:  # type: ignore[no-untyped-def]
    scout = str(make_user("scout")["user_id"])
    factories.scout_earnings(engine, scout, 50_000)
    return Creation(f"/v1/scouts/{scout}/payout-requests", {"amount_paise": 10_000}, {"amount_paise": 10_001},
                    "SELECT count(*) FROM scout_payout_requests WHERE scout_id = :s", {"s": scout})  # fmt: skip


def _refund(make_user, engine) -> Creation:  # type: ignore[no-untyped-def]
    buyer, seller = make_user("buyer")["user_id"], make_user("seller")["user_id"]
    order = factories.paid_order(engine, buyer, seller, 50_000, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    body = {"amount_paise": 10_000, "reason": "item_damaged"}
    return Creation(f"/v1/orders/{order}/refunds", body, {**body, "amount_paise": 10_001},
                    "SELECT count(*) FROM refunds WHERE order_id = :o", {"o": order})  # fmt: skip


def _order_event(make_user, engine) -> Creation:  # type: ignore[no-untyped-def]
    buyer, seller = make_user("buyer")["user_id"], make_user("seller")["user_id"]
    order = factories.paid_order(engine, buyer, seller, 50_000, dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    return Creation(f"/v1/orders/{order}/events", {"event": "delivered"}, {"event": "cancelled"},
                    "SELECT count(*) FROM order_events WHERE order_id = :o", {"o": order}, status=200)  # fmt: skip


CREATIONS: dict[str, Callable[..., Creation]] = {
    "user": _user,
    "withdrawal": _withdrawal,
    "refund": _refund,
    "order_event": _order_event,
}


@pytest.fixture(params=sorted(CREATIONS))
def creation(request, make_user, engine) -> Creation:  # type: ignore[no-untyped-def]
    return CREATIONS[request.param](make_user, engine)


def _count(engine: sa.Engine, creation: Creation) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text(creation.count_sql), creation.count_params).scalar_one())


def _post(client, headers, creation: Creation, key: str | None, body: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    with_key = {**headers, "Idempotency-Key": key} if key is not None else headers
    return client.post(creation.path, json=creation.body if body is None else body, headers=with_key)


def test_a_replay_answers_the_first_response_and_creates_nothing(client, client_headers, creation, engine) -> None:  # type: ignore[no-untyped-def]
    key = uuid.uuid4().hex
    first = _post(client, client_headers, creation, key)
    assert first.status_code == creation.status, first.text
    assert "Idempotent-Replayed" not in first.headers
    replay = _post(client, client_headers, creation, key)
    assert (replay.status_code, replay.content, replay.headers["Idempotent-Replayed"]) == (
        creation.status,
        first.content,
        "true",
    )
    assert _count(engine, creation) == 1


def test_another_body_under_the_key_is_a_conflict(client, client_headers, creation, engine) -> None:  # type: ignore[no-untyped-def]
    key = uuid.uuid4().hex
    assert _post(client, client_headers, creation, key).status_code == creation.status
    conflict = _post(client, client_headers, creation, key, creation.other_body)
    assert (conflict.status_code, conflict.json()["error"]["code"]) == (409, "idempotency_conflict")
    assert _count(engine, creation) == 1


@pytest.mark.parametrize("key", [None, "", "has space", "x" * 129])
def test_no_valid_key_is_a_400_and_creates_nothing(client, client_headers, creation, engine, key) -> None:  # type: ignore[no-untyped-def]
    response = _post(client, client_headers, creation, key)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "idempotency_key_required")
    assert _count(engine, creation) == 0


def test_keys_belong_to_their_api_key(client, client_headers, new_key, creation, engine) -> None:  # type: ignore[no-untyped-def]
    """Another client's key of the same value is another request: its own creation, not this one's answer
    (a second delivery of a delivered order changes nothing, but is recorded)."""
    key = uuid.uuid4().hex
    assert _post(client, client_headers, creation, key).status_code == creation.status
    other = _post(client, {"Authorization": f"Bearer {new_key()}"}, creation, key)
    assert (other.status_code, other.headers.get("Idempotent-Replayed")) == (creation.status, None)
    assert _count(engine, creation) == 2


def test_concurrent_identical_requests_create_one(api_app, asgi_client, client_headers, creation, engine) -> None:  # type: ignore[no-untyped-def]
    headers = {**client_headers, "Idempotency-Key": uuid.uuid4().hex}

    async def burst() -> list[Any]:
        async with asgi_client(api_app) as http:
            return list(await asyncio.gather(*(http.post(creation.path, json=creation.body, headers=headers)
                                               for _ in range(6))))  # fmt: skip

    responses = asyncio.run(burst())
    assert [r.status_code for r in responses] == [creation.status] * 6, [r.text for r in responses]
    assert len({r.content for r in responses}) == 1
    assert sorted(r.headers.get("Idempotent-Replayed", "-") for r in responses) == ["-"] + ["true"] * 5
    assert _count(engine, creation) == 1


def test_a_user_replay_is_the_first_answer_even_after_a_change(client, client_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    creation = _user(make_user, engine)
    key = uuid.uuid4().hex
    first = _post(client, client_headers, creation, key)
    user_id = first.json()["user_id"]
    assert client.patch(f"/v1/users/{user_id}", json={"name": "Asha Devi"}, headers=client_headers).status_code == 200
    replay = _post(client, client_headers, creation, key)
    assert (replay.status_code, replay.json(), replay.json()["name"]) == (201, first.json(), "Asha")
    assert client.get(f"/v1/users/{user_id}", headers=client_headers).json()["name"] == "Asha Devi"


def test_an_order_event_records_each_request_and_its_effect(client, client_headers, make_user, engine) -> None:  # type: ignore[no-untyped-def]
    creation = _order_event(make_user, engine)
    order_id = creation.count_params["o"]
    first = _post(client, client_headers, creation, "deliver-1")
    repeated = _post(client, client_headers, creation, "deliver-2")  # a new request for what already happened
    assert (first.json()["status"], repeated.json()["status"]) == ("delivered", "delivered")
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT event, previous_status, status, idempotency_key FROM order_events WHERE order_id = :o "
                    "ORDER BY order_event_id"), {"o": order_id},
        ).all()  # fmt: skip
        notices = conn.execute(
            sa.text("SELECT count(*) FROM notifications WHERE dedupe_key = :k"),
            {"k": f"order_status:{order_id}:delivered"},
        ).scalar_one()
    assert [tuple(row) for row in rows] == [
        ("delivered", "paid", "delivered", "deliver-1"),
        ("delivered", "delivered", "delivered", "deliver-2"),
    ]
    assert notices == 1
