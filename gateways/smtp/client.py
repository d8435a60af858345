"""The email channel: one SMTP connection per dispatch round, STARTTLS and AUTH as configured.

Replies in the 5xx range for a message (a refused recipient, a rejected message) are permanent; a
lost connection, a timeout or a 4xx reply is retried later. The password never reaches a log.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formatdate

from domain.notifications.channels import ChannelSession, DeliveryError, Message
from domain.platform.settings import Settings


def email_message(message: Message, sender: str) -> EmailMessage:
    """The MIME message: plain text, with an HTML alternative, under a stable `Message-ID`."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message.address or ""
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email["Date"] = formatdate(localtime=False, usegmt=True)
    for name, value in message.headers.items():
        email[name] = value
    email.set_content(message.text)
    if message.html is not None:
        email.add_alternative(message.html, subtype="html")
    return email


def _permanent(code: int) -> bool:
    return 500 <= code < 600


class _Session:
    def __init__(self, smtp: smtplib.SMTP, sender: str) -> None:
        self.smtp = smtp
        self.sender = sender

    def send(self, message: Message) -> None:
        if not message.address:
            raise DeliveryError("the recipient has no email address", permanent=True)
        try:
            self.smtp.send_message(email_message(message, self.sender))
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryError(f"recipient refused ({codes[0]})", permanent=all(map(_permanent, codes))) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}", permanent=_permanent(exc.smtp_code)) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP connection: {type(exc).__name__}") from None


class SmtpChannel:
    name = "email"

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout_s: float = 10.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self._password, self.timeout_s = starttls, username, password, timeout_s
        self.ssl_context = ssl_context or ssl.create_default_context()

    @classmethod
    def from_settings(cls, settings: Settings) -> SmtpChannel:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password is not None else None
        return cls(
            settings.smtp_host,
            settings.smtp_port,
            settings.notification_from_email,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=password,
            timeout_s=settings.smtp_timeout_s,
        )

    @contextmanager
    def session(self) -> Iterator[ChannelSession]:
        try:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout_s)
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP connection to {self.host}:{self.port}: {type(exc).__name__}") from None
        try:
            self._open(smtp)
            yield _Session(smtp, self.sender)
        finally:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()

    def _open(self, smtp: smtplib.SMTP) -> None:
        try:
            smtp.ehlo()
            if self.starttls:
                smtp.starttls(context=self.ssl_context)
                smtp.ehlo()
            if self.username is not None:
                smtp.login(self.username, self._password or "")
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f"SMTP authentication refused ({exc.smtp_code})") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP session: {type(exc).__name__}") from None
