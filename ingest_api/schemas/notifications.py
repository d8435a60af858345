"""Notifications: a user's in-app inbox and their preferences by category and channel."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

from ingest_api.schemas.common import Strict

PreferenceCategory = Literal["orders", "payments", "payouts", "referrals", "refunds", "statements"]
"""`domain.notifications.routing.user_categories()`, spelled out for the schema (a test keeps them equal)."""

PreferenceChannel = Literal["email", "in_app"]
"""`domain.notifications.routing.PREFERENCE_CHANNELS` (a test keeps them equal)."""

MAX_PREFERENCE_CHANGES = 12
"""Every category x channel once: a longer list necessarily repeats one."""


class NotificationOut(BaseModel):
    notification_id: int = Field(description="The event's id; pass it to `.../{notification_id}/read`.")
    event_type: str
    category: str = Field(description="What preferences choose by.")
    title: str
    body: str = Field(description="Plain text, rendered from the event's in-app template.")
    payload: dict[str, Any] = Field(description="The event's data, as its `event_type` defines it.")
    created_at: dt.datetime = Field(description="When the event happened.")
    read_at: dt.datetime | None = Field(description="When the user first read it; null while unread.")


class NotificationPage(BaseModel):
    items: list[NotificationOut]
    next_cursor: str | None


class PreferenceOut(BaseModel):
    category: PreferenceCategory
    channel: PreferenceChannel
    enabled: bool
    always_sent: list[str] = Field(
        description="The category's critical event types, delivered on this channel even when it is switched off."
    )


class PreferencesOut(BaseModel):
    user_id: str
    preferences: list[PreferenceOut] = Field(description="Every category x channel, in that order.")


class PreferenceChange(Strict):
    category: PreferenceCategory
    channel: PreferenceChannel
    enabled: bool


class PreferencesUpdate(Strict):
    preferences: list[PreferenceChange] = Field(
        min_length=1,
        max_length=MAX_PREFERENCE_CHANGES,
        description="The choices to change; those not listed stay as they are. Each category and channel once.",
    )
