"""A local SMTP sink (aiosmtpd) for `make dev`, `make demo`, the tests and the benchmark: it accepts
every message, keeps it in memory and, given a directory, writes it to a Maildir a mail client or
`less` can read. Never a production mail server: it relays nothing.
"""

from __future__ import annotations

import email
import email.policy
import mailbox
import socket
import threading
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword


class CollectingHandler:
    """Keeps every accepted message (parsed) in `messages`, in arrival order."""

    def __init__(self, maildir: Path | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.maildir = mailbox.Maildir(maildir, create=True) if maildir is not None else None

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Envelope) -> str:
        raw = envelope.original_content or envelope.content
        assert isinstance(raw, bytes)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        with self.lock:
            self.messages.append(parsed)
            if self.maildir is not None:
                self.maildir.add(raw)
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()


class Credentials:
    """An AUTH checker for one username and password (tests of SMTP_USERNAME / SMTP_PASSWORD)."""

    def __init__(self, username: str, password: str) -> None:
        self.username, self.password = username.encode(), password.encode()

    def __call__(self, server: SMTP, session: Any, envelope: Envelope, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (self.username, self.password)
        return AuthResult(success=ok, handled=False)


def start_sink(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    maildir: Path | None = None,
    credentials: Credentials | None = None,
    **server_options: Any,
) -> tuple[Controller, CollectingHandler]:
    """Start a sink in a thread of this process; `controller.port` is where it listens (a free port
    when `port` is 0)."""
    if port == 0:
        port = free_port(host)
    handler = CollectingHandler(maildir)
    options: dict[str, Any] = dict(server_options)
    if credentials is not None:
        options.update(authenticator=credentials, auth_require_tls=options.get("auth_require_tls", False))
    controller = Controller(handler, hostname=host, port=port, server_hostname="localhost", **options)
    controller.start()
    return controller, handler


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])
