"""What a user reads of their notifications and how they choose them: the in-app inbox and the
preference matrix (DESIGN.md section 9). The caller owns the transaction; nothing here commits.

A user's inbox is their in-app deliveries the dispatcher has sent: a delivery still pending or
failed is not in it yet, a suppressed one never is. Preferences are rows only where the user chose
something; a missing row means enabled, which is also how the dispatcher's routing SQL reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from domain.notifications.routing import PREFERENCE_CHANNELS, always_sent, user_categories
from domain.notifications.tables import notification_deliveries, notification_preferences
from domain.outbox.events import CATALOGUE
from domain.outbox.tables import notifications
from domain.users.tables import users

_d = notification_deliveries.c
_n = notifications.c


@dataclass(frozen=True, slots=True)
class Preference:
    category: str
    channel: str
    enabled: bool
    always_sent: tuple[str, ...]


def user_exists(conn: sa.Connection, user_id: str) -> bool:
    return conn.execute(sa.select(users.c.user_id).where(users.c.user_id == user_id)).first() is not None


def _inbox(user_id: str) -> sa.Select[Any]:
    """The user's readable notifications. `recipient` is the user id for in-app deliveries; the join
    also holds the outbox row to this user, so no other audience's row can ever show up here. Title
    and body are set on every sent in-app delivery; coalesced so an odd row still reads as text."""
    return (
        sa.select(
            _d.delivery_id,
            _d.notification_id,
            _n.event_type,
            sa.func.coalesce(_d.subject, "").label("title"),
            sa.func.coalesce(_d.body, "").label("body"),
            _n.payload,
            _n.created_at,
            _d.read_at,
        )
        .select_from(notification_deliveries.join(notifications, _n.notification_id == _d.notification_id))
        .where(
            _d.recipient == user_id,
            _d.channel == "in_app",
            _d.status == "sent",
            _n.user_id == user_id,
            _n.audience == "user",
        )
    )


def _item(row: sa.Row[Any]) -> dict[str, Any]:
    """A notification as its reader sees it: with its event's category, without delivery internals."""
    item = dict(row._mapping)
    item["category"] = CATALOGUE[item["event_type"]].category
    return item


def list_inbox(
    conn: sa.Connection, user_id: str, *, unread: bool = False, before_delivery_id: int | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """Newest first, `limit + 1` items so the caller knows if more follow. Ordered by delivery id,
    the order the notifications reached the inbox in, which walks the deliveries' partial index on
    (recipient, delivery_id) instead of sorting a user's whole history for every page."""
    query = _inbox(user_id).order_by(_d.delivery_id.desc()).limit(limit + 1)
    if unread:
        query = query.where(_d.read_at.is_(None))
    if before_delivery_id is not None:
        query = query.where(_d.delivery_id < before_delivery_id)
    return [_item(row) for row in conn.execute(query)]


def mark_read(conn: sa.Connection, user_id: str, notification_id: int) -> dict[str, Any] | None:
    """Mark the user's in-app notification read and return it; None if it is not one of theirs.

    Idempotent: a notification already read keeps its first `read_at`, so a client retrying (or two
    devices reading at once) cannot move it. Of two concurrent reads the second waits for the
    first's row lock, then finds `read_at` set and changes nothing.
    """
    conn.execute(
        sa.update(notification_deliveries)
        .where(
            _d.recipient == user_id,
            _d.channel == "in_app",
            _d.status == "sent",
            _d.notification_id == notification_id,
            _d.read_at.is_(None),
        )
        .values(read_at=sa.func.now(), updated_at=sa.func.now())
    )
    row = conn.execute(_inbox(user_id).where(_d.notification_id == notification_id)).first()
    return _item(row) if row is not None else None


def preferences(conn: sa.Connection, user_id: str) -> list[Preference]:
    """Every user category x preference channel, in that order: a stored choice, or enabled."""
    stored = {
        (row.category, row.channel): row.enabled
        for row in conn.execute(
            sa.select(
                notification_preferences.c.category,
                notification_preferences.c.channel,
                notification_preferences.c.enabled,
            ).where(notification_preferences.c.user_id == user_id)
        )
    }
    return [
        Preference(category, channel, stored.get((category, channel), True), always_sent(category))
        for category in user_categories()
        for channel in PREFERENCE_CHANNELS
    ]


def set_preferences(conn: sa.Connection, user_id: str, choices: Iterable[tuple[str, str, bool]]) -> None:
    """Upsert the listed (category, channel, enabled) choices; the others stay as they are. Rows go
    in sorted so two requests for one user lock them in the same order and cannot deadlock."""
    values = [
        {"user_id": user_id, "category": category, "channel": channel, "enabled": enabled}
        for category, channel, enabled in sorted(choices)
    ]
    if not values:
        return
    statement = insert(notification_preferences).values(values)
    conn.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "category", "channel"],
            set_={"enabled": statement.excluded.enabled, "updated_at": sa.func.now()},
        )
    )
