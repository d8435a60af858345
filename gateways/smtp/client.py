"""The email channel: one SMTP connection per dispatch round, STARTTLS and AUTH as configured.

Replies in the 5xx range for a message (a refused recipient, a rejected message) are permanent; a
lost connection, a timeout or a 4xx reply is retried later. The password never reaches a log.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.charset import QP, Charset
from email.header import Header
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate

from domain.notifications.channels import ChannelSession, DeliveryError, Message
from domain.platform.settings import Settings

UTF8_QP = Charset("utf-8")
UTF8_QP.body_encoding = QP


def email_message(message: Message, sender: str) -> MIMEBase:
    """The MIME message: plain text, with an HTML alternative, under a stable `Message-ID`.

    Built with the `email.mime` classes: `EmailMessage` parses every header it is given through the
    header registry, which cost more per message than the whole SMTP exchange with a local server.
    """
    text = MIMEText(message.text, "plain", UTF8_QP)
    email: MIMEBase = text
    if message.html is not None:
        email = MIMEMultipart("alternative", _subparts=[text, MIMEText(message.html, "html", UTF8_QP)])
    email["From"] = sender
    email["To"] = message.address or ""
    email["Subject"] = message.subject if message.subject.isascii() else Header(message.subject, "utf-8")
    email["Message-ID"] = message.message_id
    email["Date"] = formatdate(localtime=False, usegmt=True)
    for name, value in message.headers.items():
        email[name] = value
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
