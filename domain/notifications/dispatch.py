"""The dispatcher: outbox rows become deliveries, deliveries are claimed under a lease, sent with no
transaction open, and their outcomes recorded under the same lease (DESIGN.md section 9).

Claim (a short transaction, committed) -> render and send (no transaction) -> record (a short
transaction). Two dispatchers never claim one delivery (`FOR UPDATE SKIP LOCKED`), and a dispatcher
whose lease ran out cannot overwrite the outcome of the one that claimed the delivery after it. A
dispatcher killed between its send and its record leaves the delivery `sending`; once the lease runs
out it is claimed and sent again with the same message id: at least once to the channel, once to a
reader that deduplicates by it.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections import Counter
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
import structlog

from domain.notifications import templates
from domain.notifications.channels import Channel, DeliveryError, Message
from domain.notifications.routing import routes_json
from domain.outbox import events, outbox
from domain.platform.retry import attempts_exhausted, next_attempt_at
from domain.platform.settings import Settings
from domain.platform.sql import statement

log = structlog.get_logger(__name__)

Hook = Callable[[str, str], None]
"""Crash-drill hook: called with a point (`claimed`, `channel_answered`) and the delivery id."""


@dataclass(frozen=True, slots=True)
class DispatchOptions:
    finance_email: str
    message_domain: str
    batch_size: int
    lease_s: float
    max_attempts: int
    backoff_base_s: float
    backoff_max_s: float
    concurrency: int = 1

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> DispatchOptions:
        sender = settings.notification_from_email
        values: dict[str, Any] = {
            "finance_email": settings.finance_alert_email,
            "message_domain": sender.rsplit("@", 1)[-1].strip("> ") or "localhost",
            "batch_size": settings.notification_batch_size,
            "lease_s": settings.notification_lease_s,
            "max_attempts": settings.notification_max_attempts,
            "backoff_base_s": settings.notification_backoff_base_s,
            "backoff_max_s": settings.notification_backoff_max_s,
            "concurrency": settings.notification_concurrency,
        }
        return cls(**{**values, **overrides})


@dataclass
class DispatchSummary:
    """What one dispatch did: outbox rows routed, deliveries by outcome, and by (event, channel, outcome)."""

    routed: int = 0
    outcomes: Counter[str] = field(default_factory=Counter)
    by_event: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, int]:
        return {"routed": self.routed, **dict(sorted(self.outcomes.items()))}

    def add(self, other: DispatchSummary) -> None:
        self.routed += other.routed
        self.outcomes.update(other.outcomes)
        self.by_event.update(other.by_event)

    def count(self, batch: list[Claimed], recorded: list[dict[str, Any]], outcomes: int) -> None:
        """A round's recorded outcomes; those whose lease another dispatcher took are `lease_lost`."""
        by_id = {claimed.delivery_id: claimed for claimed in batch}
        for row in recorded:
            self.outcomes[row["status"]] += 1
            claimed = by_id[row["delivery_id"]]
            self.by_event[(claimed.event_type, claimed.channel, row["status"])] += 1
        if len(recorded) < outcomes:
            self.outcomes["lease_lost"] += outcomes - len(recorded)


@dataclass(frozen=True, slots=True)
class Claimed:
    delivery_id: int
    notification_id: int
    recipient: str
    channel: str
    address: str | None
    attempts: int
    event_type: str
    audience: str
    payload: dict[str, Any]
    created_at: dt.datetime
    name: str | None
    role: str | None


def route_pending(engine: sa.Engine, options: DispatchOptions, summary: DispatchSummary) -> None:
    """Turn every pending outbox row into its deliveries, a batch per transaction."""
    while True:
        with engine.begin() as conn:
            routed, _deliveries, suppressed = conn.execute(
                statement("notifications/route"),
                {"limit": options.batch_size * 10, "routes": routes_json(), "finance_email": options.finance_email},
            ).one()
        summary.routed += routed
        summary.outcomes["suppressed"] += suppressed
        if routed == 0:
            return


def claim(engine: sa.Engine, options: DispatchOptions, token: str) -> list[Claimed]:
    params = {"limit": options.batch_size, "token": token, "lease_s": options.lease_s}
    with engine.begin() as conn:
        rows = conn.execute(statement("notifications/claim"), params).mappings().all()
    return sorted((Claimed(**row) for row in rows), key=lambda claimed: claimed.delivery_id)


def message_id(claimed: Claimed, domain: str) -> str:
    """The same on every attempt of a delivery, so a re-send is recognisably the same message."""
    return f"<delivery-{claimed.delivery_id}.{claimed.channel}@{domain}>"


def _context(claimed: Claimed) -> dict[str, Any]:
    """What a template sees: who it is for, and the payload, whose own keys win (the payload of
    `notification_undelivered` names the undelivered event as its `event_type`)."""
    return {
        "event_type": claimed.event_type,
        "audience": claimed.audience,
        "recipient_role": claimed.role,
        "recipient_name": claimed.name or "Finance",
        "created_at": claimed.created_at,
        **claimed.payload,
    }


def _outcome(claimed: Claimed, status: str, **values: Any) -> dict[str, Any]:
    return {
        "delivery_id": claimed.delivery_id,
        "status": status,
        "next_attempt_at": None,
        "error": None,
        "template": None,
        "subject": None,
        "body": None,
        "message_id": None,
        **values,
    }


def _failure(claimed: Claimed, error: DeliveryError, options: DispatchOptions, rng: random.Random) -> dict[str, Any]:
    if error.permanent or attempts_exhausted(claimed.attempts, options.max_attempts):
        return _outcome(claimed, "undelivered", error=str(error)[:500])
    retry_at = next_attempt_at(
        dt.datetime.now(dt.UTC), claimed.attempts, options.backoff_base_s, options.backoff_max_s, rng
    )
    return _outcome(claimed, "failed", error=str(error)[:500], next_attempt_at=retry_at.isoformat())


def send_round(
    batch: list[Claimed],
    channel: Channel,
    options: DispatchOptions,
    rng: random.Random,
    hook: Hook | None,
) -> list[dict[str, Any]]:
    """Render and send one channel's share of a round over one session; an outcome per delivery."""
    outcomes: list[dict[str, Any]] = []
    pending: list[tuple[Claimed, Message, templates.Rendered]] = []
    for claimed in batch:
        try:
            rendered = templates.render(claimed.event_type, claimed.channel, _context(claimed))
        except templates.TemplateMissing as exc:
            outcomes.append(_failure(claimed, DeliveryError(str(exc), permanent=True), options, rng))
            continue
        headers = {"X-Notification-Event": claimed.event_type, "X-Notification-Id": str(claimed.notification_id)}
        message = Message(
            message_id(claimed, options.message_domain),
            claimed.channel,
            claimed.address,
            rendered.subject,
            rendered.text,
            rendered.html,
            headers,
        )
        pending.append((claimed, message, rendered))
    if not pending:
        return outcomes
    try:
        with channel.session() as session:
            for claimed, message, rendered in pending:
                try:
                    session.send(message)
                except DeliveryError as exc:
                    outcomes.append(_failure(claimed, exc, options, rng))
                    continue
                if hook is not None:
                    hook("channel_answered", str(claimed.delivery_id))
                body = rendered.text if claimed.channel == "in_app" else None
                outcomes.append(
                    _outcome(
                        claimed,
                        "sent",
                        template=rendered.template,
                        subject=rendered.subject,
                        body=body,
                        message_id=message.message_id,
                    )
                )
    except DeliveryError as exc:
        done = {outcome["delivery_id"] for outcome in outcomes}
        unsent = [claimed for claimed, _, _ in pending if claimed.delivery_id not in done]
        outcomes.extend(_failure(claimed, exc, options, rng) for claimed in unsent)
    return outcomes


def record(engine: sa.Engine, token: str, outcomes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Record a round's outcomes under its lease; finance hears of each delivery given up on."""
    with engine.begin() as conn:
        recorded = [
            dict(row)
            for row in conn.execute(
                statement("notifications/record"), {"token": token, "outcomes": json.dumps(outcomes)}
            ).mappings()
        ]
        given_up = [row for row in recorded if row["status"] == "undelivered"]
        if given_up:
            _alert_undelivered(conn, given_up)
    return recorded


def _alert_undelivered(conn: sa.Connection, given_up: list[dict[str, Any]]) -> None:
    """An alert per undelivered delivery, except of an alert about one (it would never end)."""
    types: dict[int, str] = dict(
        conn.execute(
            sa.text("SELECT notification_id, event_type FROM notifications WHERE notification_id = ANY(:ids)"),
            {"ids": [row["notification_id"] for row in given_up]},
        ).all()
    )
    rows = []
    for row in given_up:
        event_type = types[row["notification_id"]]
        log.error("notification_undelivered", delivery_id=row["delivery_id"], event_type=event_type)
        if event_type == "notification_undelivered":
            continue
        rows.append(
            events.notification_undelivered(
                events.NotificationUndelivered(
                    delivery_id=row["delivery_id"],
                    notification_id=row["notification_id"],
                    event_type=event_type,
                    recipient=row["recipient"],
                    channel=row["channel"],
                    attempts=row["attempts"],
                    last_error=row["last_error"],
                )
            )
        )
    outbox.write(conn, rows)


def dispatch(
    engine: sa.Engine,
    channels: Mapping[str, Channel],
    options: DispatchOptions,
    *,
    max_rounds: int | None = None,
    hook: Hook | None = None,
    rng: random.Random | None = None,
) -> DispatchSummary:
    """Route the pending outbox, then run `options.concurrency` workers, each claiming, sending and
    recording rounds over its own channel sessions until nothing is due (or `max_rounds` each): while
    one waits for the mail server, another renders or talks to the database."""
    rng = rng or random.Random()
    summary = DispatchSummary()
    route_pending(engine, options, summary)

    def work() -> DispatchSummary:
        return _rounds(engine, channels, options, max_rounds, hook, random.Random(rng.random()))

    with ThreadPoolExecutor(options.concurrency, thread_name_prefix="notifications") as pool:
        for future in [pool.submit(work) for _ in range(options.concurrency)]:
            summary.add(future.result())
    log.info("notifications_dispatched", **summary.as_dict())
    return summary


def _rounds(
    engine: sa.Engine,
    channels: Mapping[str, Channel],
    options: DispatchOptions,
    max_rounds: int | None,
    hook: Hook | None,
    rng: random.Random,
) -> DispatchSummary:
    summary = DispatchSummary()
    rounds = 0
    while max_rounds is None or rounds < max_rounds:
        token = str(uuid.uuid4())
        batch = claim(engine, options, token)
        if not batch:
            break
        rounds += 1
        for claimed in batch:
            if hook is not None:
                hook("claimed", str(claimed.delivery_id))
        outcomes: list[dict[str, Any]] = []
        for name in sorted({claimed.channel for claimed in batch}):
            share = [claimed for claimed in batch if claimed.channel == name]
            channel = channels.get(name)
            if channel is None:
                error = DeliveryError(f"no {name} channel is configured")
                outcomes.extend(_failure(claimed, error, options, rng) for claimed in share)
                continue
            outcomes.extend(send_round(share, channel, options, rng, hook))
        recorded = record(engine, token, outcomes)
        summary.count(batch, recorded, len(outcomes))
        if any(row["status"] == "undelivered" for row in recorded):
            route_pending(engine, options, summary)
    return summary
