"""A user's in-app notifications (listing, pages, the unread filter, reading) and their preferences.

Notifications are made here as the dispatcher leaves them, without running it: an outbox row, marked
routed, with a sent in-app delivery, committed (the API reads through its own connections)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Set as AbstractSet
from typing import Any, get_args

import pytest
import sqlalchemy as sa
from pydantic import TypeAdapter

from domain.notifications import routing
from domain.notifications.tables import notification_deliveries, notification_preferences
from domain.outbox import events, outbox
from domain.outbox.events import OutboxRow
from domain.outbox.tables import notifications
from ingest_api.schemas.notifications import PreferenceCategory, PreferenceChannel

TIME = TypeAdapter(dt.datetime)


def _deliver(
    engine: sa.Engine, row: OutboxRow, *, channel: str = "in_app", status: str = "sent", title: str = "Hello"
) -> dict[str, Any]:
    """The outbox row (routed) and its delivery to the row's user; the item the API should show."""
    with engine.begin() as conn:
        outbox.write(conn, [row])
        notification = conn.execute(
            sa.update(notifications)
            .where(notifications.c.dedupe_key == row.dedupe_key)
            .values(status="routed", routed_at=sa.func.now())
            .returning(notifications.c.notification_id, notifications.c.created_at)
        ).one()
        sent = {"sent_at": sa.func.now(), "subject": title, "body": f"{title}, in full."} if status == "sent" else {}
        conn.execute(
            sa.insert(notification_deliveries).values(
                notification_id=notification.notification_id,
                recipient=row.user_id,
                channel=channel,
                status=status,
                template=f"{row.event_type}.v1",
                address="user@example.in" if channel == "email" else None,
                **sent,
            )
        )
    return {
        "notification_id": notification.notification_id,
        "event_type": row.event_type,
        "category": events.CATALOGUE[row.event_type].category,
        "title": title,
        "body": f"{title}, in full.",
        "payload": row.payload,
        "created_at": TIME.dump_python(notification.created_at, mode="json"),
        "read_at": None,
    }


def _payment(user_id: str, amount_paise: int = 10_000) -> OutboxRow:
    return events.payment_outcome(f"ord_{uuid.uuid4().hex[:12]}", user_id, True, amount_paise)


def _order_status(user_id: str) -> OutboxRow:
    return events.order_status_changed(f"ord_{uuid.uuid4().hex[:12]}", user_id, "paid", "delivered")


def _inbox(client, headers, user_id: str, **params: object) -> Any:  # type: ignore[no-untyped-def]
    response = client.get(f"/v1/users/{user_id}/notifications", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def _read(client, headers, user_id: str, notification_id: int) -> Any:  # type: ignore[no-untyped-def]
    return client.post(f"/v1/users/{user_id}/notifications/{notification_id}/read", headers=headers)


@pytest.fixture
def inbox(engine, make_user) -> tuple[str, list[dict[str, Any]]]:  # type: ignore[no-untyped-def]
    """A buyer with three in-app notifications (oldest first), one email delivery and one in-app
    delivery not yet sent, and another user with one of their own."""
    user = str(make_user("buyer")["user_id"])
    items = [
        _deliver(engine, _payment(user), title="Payment received"),
        _deliver(engine, _order_status(user), title="Order delivered"),
        _deliver(engine, _payment(user, 25_000), title="Second payment"),
    ]
    _deliver(engine, _payment(user), channel="email")
    _deliver(engine, _payment(user), status="pending")
    _deliver(engine, _payment(str(make_user("buyer")["user_id"])))
    return user, items


def test_the_inbox_is_newest_first_in_pages(client, client_headers, inbox) -> None:  # type: ignore[no-untyped-def]
    user, (first, second, third) = inbox
    page = _inbox(client, client_headers, user, limit=2)
    assert page["items"] == [third, second]
    assert page["next_cursor"] is not None
    rest = _inbox(client, client_headers, user, limit=2, cursor=page["next_cursor"])
    assert rest == {"items": [first], "next_cursor": None}
    assert _inbox(client, client_headers, user) == {"items": [third, second, first], "next_cursor": None}
    assert second["category"] == "orders" and first["category"] == "payments"
    assert first["payload"] == {"order_id": first["payload"]["order_id"], "amount_paise": 10_000}


def test_reading_is_idempotent_and_leaves_the_unread(client, client_headers, inbox) -> None:  # type: ignore[no-untyped-def]
    user, (first, second, third) = inbox
    assert _inbox(client, client_headers, user, unread="true")["items"] == [third, second, first]

    read = _read(client, client_headers, user, second["notification_id"])
    assert read.status_code == 200, read.text
    read_at = read.json()["read_at"]
    assert read_at is not None and read.json() == {**second, "read_at": read_at}
    again = _read(client, client_headers, user, second["notification_id"])
    assert (again.status_code, again.json()) == (200, {**second, "read_at": read_at})

    assert _inbox(client, client_headers, user, unread="true") == {"items": [third, first], "next_cursor": None}
    assert _inbox(client, client_headers, user, unread="false")["items"] == [
        third,
        {**second, "read_at": read_at},
        first,
    ]
    unread_page = _inbox(client, client_headers, user, unread="true", limit=1)
    assert unread_page["items"] == [third]
    assert _inbox(client, client_headers, user, unread="true", limit=1, cursor=unread_page["next_cursor"]) == {
        "items": [first],
        "next_cursor": None,
    }


def test_only_the_users_own_in_app_notifications_can_be_read(client, client_headers, engine, make_user) -> None:  # type: ignore[no-untyped-def]
    user, other = str(make_user("buyer")["user_id"]), str(make_user("seller")["user_id"])
    theirs = _deliver(engine, _payment(other))
    email = _deliver(engine, _payment(user), channel="email")
    pending = _deliver(engine, _payment(user), status="pending")
    for notification_id in (theirs["notification_id"], email["notification_id"], pending["notification_id"], 2**53 - 1):
        response = _read(client, client_headers, user, notification_id)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "notification_not_found")
    assert _inbox(client, client_headers, other)["items"] == [theirs]
    with engine.connect() as conn:
        read = conn.execute(
            sa.select(sa.func.count())
            .select_from(notification_deliveries)
            .where(
                notification_deliveries.c.notification_id.in_([theirs["notification_id"], email["notification_id"]]),
                notification_deliveries.c.read_at.is_not(None),
            )
        ).scalar_one()
    assert read == 0


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/users/usr_nobody/notifications"),
        ("POST", "/v1/users/usr_nobody/notifications/1/read"),
        ("GET", "/v1/users/usr_nobody/notification-preferences"),
    ],
)
def test_an_unknown_user_is_404(client, client_headers, method, path) -> None:  # type: ignore[no-untyped-def]
    response = client.request(method, path, headers=client_headers)
    assert (response.status_code, response.json()["error"]["code"]) == (404, "user_not_found")


def test_a_cursor_that_is_not_a_position_is_invalid(client, client_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("buyer")["user_id"]
    for cursor in ("pay_0", "1.2", "1234567890123456789"):
        response = client.get(f"/v1/users/{user}/notifications", params={"cursor": cursor}, headers=client_headers)
        assert (response.status_code, response.json()["error"]["code"]) == (400, "invalid_cursor")
    assert _inbox(client, client_headers, user, cursor="0") == {"items": [], "next_cursor": None}


def test_the_routes_need_an_api_key(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("buyer")["user_id"]
    for method, path in (("GET", "notifications"), ("GET", "notification-preferences")):
        response = client.request(method, f"/v1/users/{user}/{path}")
        assert (response.status_code, response.json()["error"]["code"]) == (401, "unauthorized")


def _matrix(off: AbstractSet[tuple[str, str]] = frozenset()) -> list[dict[str, Any]]:
    critical = {"payouts": ["payout_failed", "payout_reversed"], "refunds": ["refund_completed", "refund_failed"]}
    return [
        {
            "category": category,
            "channel": channel,
            "enabled": (category, channel) not in off,
            "always_sent": critical.get(category, []),
        }
        for category in ("orders", "payments", "payouts", "referrals", "refunds", "statements")
        for channel in ("email", "in_app")
    ]


def _put(client, headers, user_id: str, *changes: tuple[str, str, bool]):  # type: ignore[no-untyped-def]
    body = {"preferences": [{"category": c, "channel": ch, "enabled": on} for c, ch, on in changes]}
    return client.put(f"/v1/users/{user_id}/notification-preferences", json=body, headers=headers)


def _stored(engine: sa.Engine, user_id: str) -> list[tuple[str, str, bool]]:
    p = notification_preferences.c
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(p.category, p.channel, p.enabled).where(p.user_id == user_id).order_by(p.category, p.channel)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_preferences_default_to_enabled_with_what_is_always_sent(client, client_headers, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("seller")["user_id"]
    response = client.get(f"/v1/users/{user}/notification-preferences", headers=client_headers)
    assert (response.status_code, response.json()) == (200, {"user_id": user, "preferences": _matrix()})


def test_a_put_changes_only_the_listed_preferences(client, client_headers, engine, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("scout")["user_id"]
    first = _put(client, client_headers, user, ("payouts", "email", False), ("orders", "in_app", False))
    assert (first.status_code, first.json()) == (
        200,
        {"user_id": user, "preferences": _matrix({("payouts", "email"), ("orders", "in_app")})},
    )
    second = _put(client, client_headers, user, ("payouts", "email", True), ("refunds", "in_app", False))
    expected = {"user_id": user, "preferences": _matrix({("orders", "in_app"), ("refunds", "in_app")})}
    assert (second.status_code, second.json()) == (200, expected)
    got = client.get(f"/v1/users/{user}/notification-preferences", headers=client_headers)
    assert (got.status_code, got.json()) == (200, expected)
    assert _stored(engine, user) == [
        ("orders", "in_app", False),
        ("payouts", "email", True),
        ("refunds", "in_app", False),
    ]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ([{"category": "alerts", "channel": "email", "enabled": False}], "validation_error"),
        ([{"category": "payouts", "channel": "sms", "enabled": False}], "validation_error"),
        ([{"category": "payouts", "channel": "email", "enabled": "false"}], "validation_error"),
        ([{"category": "payouts", "channel": "email"}], "validation_error"),
        ([], "validation_error"),
        (
            [
                {"category": "payouts", "channel": "email", "enabled": False},
                {"category": "payouts", "channel": "email", "enabled": True},
            ],
            "preference_duplicated",
        ),
    ],
)
def test_refused_preference_changes_change_nothing(client, client_headers, engine, make_user, changes, code) -> None:  # type: ignore[no-untyped-def]
    user = make_user("buyer")["user_id"]
    response = client.put(
        f"/v1/users/{user}/notification-preferences", json={"preferences": changes}, headers=client_headers
    )
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)
    assert _stored(engine, user) == []


def test_a_put_for_an_unknown_user_is_404(client, client_headers) -> None:  # type: ignore[no-untyped-def]
    response = _put(client, client_headers, "usr_nobody", ("payouts", "email", False))
    assert (response.status_code, response.json()["error"]["code"]) == (404, "user_not_found")


def test_the_schema_offers_exactly_the_routing_categories_and_channels(client) -> None:  # type: ignore[no-untyped-def]
    assert get_args(PreferenceCategory) == routing.user_categories()
    assert get_args(PreferenceChannel) == routing.PREFERENCE_CHANNELS
    put = client.get("/openapi.json").json()["paths"]["/v1/users/{user_id}/notification-preferences"]["put"]
    assert "critical events (`always_sent`) are still delivered" in put["description"]
    assert "critical events (`always_sent`) are still delivered" in put["responses"]["200"]["description"]
