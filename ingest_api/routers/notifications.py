"""A user's notifications: the in-app inbox and the preferences by category and channel.

The dispatcher writes the inbox (in-app deliveries it has sent) and reads the preferences when it
routes an event; these routes only read the one and write the other. Critical events are delivered
whatever the preferences say (`always_sent`), and so is a settlement statement that leaves the
seller's balance negative.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Path, Query

from domain.notifications import store
from ingest_api.deps import CurrentKey, SessionDep
from ingest_api.errors import ApiError, error_responses
from ingest_api.pagination import SequenceCursor
from ingest_api.schemas.common import PathId
from ingest_api.schemas.notifications import (
    NotificationOut,
    NotificationPage,
    PreferenceOut,
    PreferencesOut,
    PreferencesUpdate,
)

router = APIRouter(prefix="/v1", tags=["notifications"])

NotificationId = Annotated[int, Path(ge=1, le=2**53 - 1)]
"""Outbox ids are bigint; bounded like amounts, so every id the schema publishes is exact in JSON."""

ALWAYS_SENT = (
    "Switching a category off on a channel stops its other events there; its critical events "
    "(`always_sent`) are still delivered, as is a settlement statement that leaves the balance negative."
)


def _require_user(conn: SessionDep, user_id: str) -> None:
    if not store.user_exists(conn, user_id):
        raise ApiError("user_not_found")


def _preferences(conn: SessionDep, user_id: str) -> PreferencesOut:
    return PreferencesOut(
        user_id=user_id,
        preferences=[PreferenceOut.model_validate(asdict(p)) for p in store.preferences(conn, user_id)],
    )


@router.get(
    "/users/{user_id}/notifications",
    response_model=NotificationPage,
    responses=error_responses(400, 401, 404, 422, 429),
)
def list_notifications(
    user_id: PathId,
    _key: CurrentKey,
    conn: SessionDep,
    unread: bool = False,
    cursor: SequenceCursor = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> NotificationPage:
    """The user's in-app notifications, newest first; `unread=true` leaves out those already read.
    Pass `next_cursor` back as `cursor`."""
    _require_user(conn, user_id)
    before = int(cursor) if cursor is not None else None
    rows = store.list_inbox(conn, user_id, unread=unread, before_delivery_id=before, limit=limit)
    page = rows[:limit]
    next_cursor = str(page[-1]["delivery_id"]) if len(rows) > limit else None
    return NotificationPage(items=[NotificationOut.model_validate(row) for row in page], next_cursor=next_cursor)


@router.post(
    "/users/{user_id}/notifications/{notification_id}/read",
    response_model=NotificationOut,
    responses=error_responses(401, 404, 422, 429),
)
def read_notification(
    user_id: PathId, notification_id: NotificationId, _key: CurrentKey, conn: SessionDep
) -> NotificationOut:
    """Mark one of the user's in-app notifications read; reading it again keeps the first `read_at`.
    Another user's notification, or one not delivered in the app, is `notification_not_found`."""
    _require_user(conn, user_id)
    row = store.mark_read(conn, user_id, notification_id)
    if row is None:
        raise ApiError("notification_not_found")
    return NotificationOut.model_validate(row)


@router.get(
    "/users/{user_id}/notification-preferences",
    response_model=PreferencesOut,
    responses=error_responses(401, 404, 422, 429),
    response_description="Every category x channel, enabled unless switched off. " + ALWAYS_SENT,
)
def get_preferences(user_id: PathId, _key: CurrentKey, conn: SessionDep) -> PreferencesOut:
    """The user's notification preferences: every category the user can receive, by channel."""
    _require_user(conn, user_id)
    return _preferences(conn, user_id)


@router.put(
    "/users/{user_id}/notification-preferences",
    response_model=PreferencesOut,
    responses=error_responses(400, 401, 404, 413, 415, 422, 429),
    description="Switch categories on or off per channel; only the listed ones change, and each may be "
    "listed once (`preference_duplicated`). " + ALWAYS_SENT,
    response_description="The whole matrix after the change. " + ALWAYS_SENT,
)
def put_preferences(user_id: PathId, body: PreferencesUpdate, _key: CurrentKey, conn: SessionDep) -> PreferencesOut:
    counts = Counter((change.category, change.channel) for change in body.preferences)
    repeated = sorted(f"{category}/{channel}" for (category, channel), n in counts.items() if n > 1)
    if repeated:
        raise ApiError("preference_duplicated", f"Listed more than once: {', '.join(repeated)}.")
    _require_user(conn, user_id)
    store.set_preferences(conn, user_id, [(c.category, c.channel, c.enabled) for c in body.preferences])
    return _preferences(conn, user_id)
