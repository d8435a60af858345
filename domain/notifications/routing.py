"""Which channels each event of the catalogue goes out on, per audience, and what users may switch off.

Users hear of their money by email and in the app; an order's every status change only in the app
(a seller with a thousand orders a day gets one statement email, not a thousand). Finance's alerts
go by email to FINANCE_ALERT_EMAIL. Preferences choose by category and channel; a critical event is
always sent, as is a statement that leaves a seller's balance negative.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from functools import cache

from domain.outbox.events import CATALOGUE, Audience, EventType

USER_CHANNELS = ("email", "in_app")
FINANCE_CHANNELS = ("email",)
IN_APP_ONLY = frozenset({"order_status_changed"})

PREFERENCE_CHANNELS = ("email", "in_app")
"""The channels a user can choose by; SMS and push join when a provider does."""


@dataclass(frozen=True, slots=True)
class Route:
    event_type: str
    audience: Audience
    channel: str
    category: str
    critical: bool


def channels_of(event: EventType, audience: Audience) -> tuple[str, ...]:
    if audience == "finance":
        return FINANCE_CHANNELS
    return ("in_app",) if event.name in IN_APP_ONLY else USER_CHANNELS


ROUTES: tuple[Route, ...] = tuple(
    Route(event.name, audience, channel, event.category, event.critical)
    for event in CATALOGUE.values()
    for audience in sorted(event.audiences)
    for channel in channels_of(event, audience)
)


def user_categories() -> tuple[str, ...]:
    """The categories of the events users receive: what their preferences are keyed by."""
    return tuple(sorted({route.category for route in ROUTES if route.audience == "user"}))


def always_sent(category: str) -> tuple[str, ...]:
    """The events of a user category that no preference switches off."""
    critical = {r.event_type for r in ROUTES if r.audience == "user" and r.category == category and r.critical}
    return tuple(sorted(critical))


@cache
def routes_json() -> str:
    """The routing table as the dispatcher's SQL joins it."""
    return json.dumps([asdict(route) for route in ROUTES])
