"""The port every delivery channel implements, and the in-app channel, which is our own database.

A channel opens one `ChannelSession` per dispatch round (SMTP: one connection for the round's
messages) and sends each `Message` through it. `Message.message_id` is the same on every attempt of
a delivery, so a message sent twice (a dispatcher killed after the send, before it recorded it) is
one message to a channel that deduplicates by it, as mail clients do by `Message-ID`.

SMS and push are this same port with no provider configured: an adapter implements `Channel`, is
registered under its name, and the routing table (`domain.notifications.routing`) lists it for the
events that should use it. Nothing else changes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Message:
    """One rendered delivery: `address` is the email address (or phone, device) it goes to; `html` is
    only for channels that carry it."""

    message_id: str
    channel: str
    address: str | None
    subject: str
    text: str
    html: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


class DeliveryError(Exception):
    """A send that did not go through. `permanent` errors (an address the server refuses) are not
    retried; the others are retried with backoff until the attempts run out."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class ChannelSession(Protocol):
    def send(self, message: Message) -> None:
        """Hand `message` to the channel; raise `DeliveryError` if it did not take it."""


class Channel(Protocol):
    name: str

    def session(self) -> AbstractContextManager[ChannelSession]:
        """A session for one round of sends; opening it may raise `DeliveryError` (the round's
        messages are then retried later)."""


class _Stored:
    def send(self, message: Message) -> None:
        """The rendered title and body are the delivery row itself, recorded with its outcome."""


class InAppChannel:
    """Notifications users read through `GET /v1/users/{id}/notifications`: sending is recording."""

    name = "in_app"

    @contextmanager
    def session(self) -> Iterator[ChannelSession]:
        yield _Stored()
